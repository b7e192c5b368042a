/* Ember: an implementation of ArrayFire's C API. This header states the ArrayFire version whose
 * interface Ember implements. Programs test AF_API_VERSION_CURRENT to learn which functions exist,
 * so it names the API level that is implemented, not Ember's own release. */
#ifndef EMBER_AF_VERSION_H
#define EMBER_AF_VERSION_H

#define AF_VERSION_MAJOR 3
#define AF_VERSION_MINOR 10
#define AF_VERSION_PATCH 0
#define AF_VERSION       "3.10.0"

/* The API level as ArrayFire writes it: major * 100 + minor, in the form AF_API_VERSION uses. */
#define AF_API_VERSION_CURRENT 310

#endif /* EMBER_AF_VERSION_H */
