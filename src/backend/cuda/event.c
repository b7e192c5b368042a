/* Events (af/event.h) on the CUDA backend: a CUDA event recorded on a device's library stream.
 * Marking and waiting never block the host; only af_block_event does. */
#include "cu.h"

#include "../../core/err.h"

af_err em_cu_event_create(int dev, void **ev) {
    af_err err = AF_SUCCESS;
    cudaEvent_t e = NULL;
    int prev = -1;
    /* An event belongs to the device current at creation; no timing keeps it cheap to record. */
    EM_TRY(em_cu_enter(__func__, dev, NULL, &prev));
    EM_CU_TRY(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
    *ev = e;
fail:
    em_cu_leave(prev);
    return err;
}

void em_cu_event_destroy(void *ev) {
    /* CUDA releases the event once work that still refers to it has finished. */
    if (ev && cudaEventDestroy((cudaEvent_t)ev) != cudaSuccess) (void)cudaGetLastError();
}

af_err em_cu_event_record(int dev, void *ev) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    int prev = -1;
    EM_TRY(em_cu_enter(__func__, dev, &s, &prev));
    EM_CU_TRY(cudaEventRecord((cudaEvent_t)ev, s), "cudaEventRecord");
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_event_wait(int dev, void *ev) {
    af_err err = AF_SUCCESS;
    cudaStream_t s;
    int prev = -1;
    EM_TRY(em_cu_enter(__func__, dev, &s, &prev));
    EM_CU_TRY(cudaStreamWaitEvent(s, (cudaEvent_t)ev, 0), "cudaStreamWaitEvent");
fail:
    em_cu_leave_enqueued(dev, prev);
    return err;
}

af_err em_cu_event_sync(void *ev) {
    af_err err = AF_SUCCESS;
    EM_CU_TRY(cudaEventSynchronize((cudaEvent_t)ev), "cudaEventSynchronize");
fail:
    return err;
}
