/* event.h: events on the active device's library stream. An event marks the work queued so far;
 * af_enqueue_wait_event makes later library work wait for it without blocking the host;
 * af_block_event blocks the host. On a backend whose calls complete before returning (the CPU),
 * every marked event is already complete. */
#include <af/event.h>

#include "../core/dev.h"
#include "../core/err.h"

#include <stdlib.h>

#define EM_EVENT_MAGIC 0x454d4556u /* "EMEV" */
#define EM_EVENT_DEAD  0xdeadeeeeu

typedef struct {
    uint32_t magic;
    int dev;
    void *native; /* the backend's event, NULL where the backend has none */
} em_event;

static af_err event_get(const char *fn, af_event handle, em_event **out) {
    em_event *e = handle;
    if (!e) return em_err(AF_ERR_ARG, fn, "argument 0 (eventHandle) is NULL");
    if (e->magic != EM_EVENT_MAGIC)
        return em_err(AF_ERR_ARG, fn, "argument 0 is not a live event (deleted?)");
    *out = e;
    return AF_SUCCESS;
}

af_err af_create_event(af_event *eventHandle) {
    af_err err = AF_SUCCESS;
    em_event *e = NULL;
    EM_ARG_NULL(eventHandle, 0);
    EM_TRY(em_init());
    e = calloc(1, sizeof(*e));
    if (!e) EM_FAIL(AF_ERR_NO_MEM, "out of host memory for an event");
    e->magic = EM_EVENT_MAGIC;
    e->dev = em_dev_active();
    if (em_backend_self.event_create) EM_TRY(em_backend_self.event_create(e->dev, &e->native));
    *eventHandle = e;
    return AF_SUCCESS;
fail:
    free(e);
    return err;
}

af_err af_delete_event(af_event eventHandle) {
    af_err err = AF_SUCCESS;
    em_event *e = NULL;
    EM_TRY(event_get(__func__, eventHandle, &e));
    if (e->native) em_backend_self.event_destroy(e->native);
    e->magic = EM_EVENT_DEAD;
    free(e);
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_mark_event(const af_event eventHandle) {
    af_err err = AF_SUCCESS;
    em_event *e = NULL;
    EM_TRY(event_get(__func__, eventHandle, &e));
    if (e->native) EM_TRY(em_backend_self.event_record(e->dev, e->native));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_enqueue_wait_event(const af_event eventHandle) {
    af_err err = AF_SUCCESS;
    em_event *e = NULL;
    EM_TRY(event_get(__func__, eventHandle, &e));
    /* The waiting stream is the active device's, as in ArrayFire. */
    if (e->native) EM_TRY(em_backend_self.event_wait(em_dev_active(), e->native));
    return AF_SUCCESS;
fail:
    return err;
}

af_err af_block_event(const af_event eventHandle) {
    af_err err = AF_SUCCESS;
    em_event *e = NULL;
    EM_TRY(event_get(__func__, eventHandle, &e));
    if (e->native) EM_TRY(em_backend_self.event_sync(e->native));
    return AF_SUCCESS;
fail:
    return err;
}
