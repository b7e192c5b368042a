/* Ember: an implementation of ArrayFire's C API. This header declares ArrayFire 3.10's event
 * interface, with the same names, types and AF_API_VERSION guards. */

#ifndef EMBER_AF_EVENT_H
#define EMBER_AF_EVENT_H

#include <af/defines.h>

#ifdef __cplusplus
extern "C" {
#endif

#if AF_API_VERSION >= 37
/** Creates an event on the active device. */
AFAPI af_err af_create_event(af_event *eventHandle);
#endif

#if AF_API_VERSION >= 37
/** Destroys an event. */
AFAPI af_err af_delete_event(af_event eventHandle);
#endif

#if AF_API_VERSION >= 37
/** Records the event at the current point of the library's queue. */
AFAPI af_err af_mark_event(const af_event eventHandle);
#endif

#if AF_API_VERSION >= 37
/** Makes the library's queue wait for the event, without blocking the host. */
AFAPI af_err af_enqueue_wait_event(const af_event eventHandle);
#endif

#if AF_API_VERSION >= 37
/** Blocks the host until the event has completed. */
AFAPI af_err af_block_event(const af_event eventHandle);
#endif

#ifdef __cplusplus
}
#endif

#endif /* EMBER_AF_EVENT_H */
