/* event.h: marking, enqueued waits and host blocks order work; bad handles are errors. */
#include "test.h"

TEST(event_orders_work) {
    af_event e = 0;
    CHECK_AF(af_create_event(&e));
    dim_t dims[1] = {1 << 16};
    af_array a = 0, b = 0;
    CHECK_AF(af_randu(&a, 1, dims, f32));
    CHECK_AF(af_mul(&b, a, a, false));
    CHECK_AF(af_eval(b));
    CHECK_AF(af_mark_event(e));
    CHECK_AF(af_enqueue_wait_event(e));
    CHECK_AF(af_block_event(e));
    /* After the block, the result is complete; reading it must agree with the input. */
    float *ha = malloc(sizeof(float) << 16), *hb = malloc(sizeof(float) << 16);
    CHECK_AF(af_get_data_ptr(ha, a));
    CHECK_AF(af_get_data_ptr(hb, b));
    int bad = 0;
    for (int i = 0; i < 1 << 16; i++)
        bad += hb[i] != ha[i] * ha[i];
    CHECK(bad == 0);
    free(ha);
    free(hb);
    /* An event marked twice, and waited on with nothing queued, is fine. */
    CHECK_AF(af_mark_event(e));
    CHECK_AF(af_mark_event(e));
    CHECK_AF(af_block_event(e));
    CHECK_AF(af_delete_event(e));
    af_release_array(a);
    af_release_array(b);
}

TEST(event_bad_input) {
    CHECK_ERR(af_create_event(NULL), AF_ERR_ARG);
    CHECK_ERR(af_mark_event(NULL), AF_ERR_ARG);
    CHECK_ERR(af_enqueue_wait_event(NULL), AF_ERR_ARG);
    CHECK_ERR(af_block_event(NULL), AF_ERR_ARG);
    CHECK_ERR(af_delete_event(NULL), AF_ERR_ARG);
    int not_an_event = 7;
    CHECK_ERR(af_mark_event(&not_an_event), AF_ERR_ARG);
}
