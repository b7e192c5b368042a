#include "dev.h"

#include "err.h"
#include "tls.h"
#include "mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t em_init_once = PTHREAD_ONCE_INIT;
static af_err em_init_err = AF_SUCCESS;
static char em_init_msg[512];
static int em_ndev;
static int em_default_dev;
static em_dev_props em_props[EM_MAX_DEVICES];
static EM_TLS int em_active = -1;
static EM_TLS bool em_manual;

static void em_init_run(void) {
    int n = em_backend_self.dev_count();
    if (n <= 0) {
        em_init_err = AF_ERR_DRIVER;
        snprintf(em_init_msg, sizeof(em_init_msg), "no %s device is available",
                 em_backend_self.name);
        return;
    }
    if (n > EM_MAX_DEVICES) n = EM_MAX_DEVICES;
    for (int d = 0; d < n; d++) {
        af_err err = em_backend_self.dev_props(d, &em_props[d]);
        if (err != AF_SUCCESS) {
            em_init_err = err;
            snprintf(em_init_msg, sizeof(em_init_msg), "could not query device %d", d);
            return;
        }
    }
    const char *env = getenv("AF_CUDA_DEFAULT_DEVICE");
    if (env && em_backend_self.id == AF_BACKEND_CUDA) {
        int d = atoi(env);
        if (d >= 0 && d < n) em_default_dev = d;
    }
    em_ndev = n;
}

af_err em_init(void) {
    pthread_once(&em_init_once, em_init_run);
    if (em_init_err != AF_SUCCESS) return em_err(em_init_err, "af_init", "%s", em_init_msg);
    if (em_active < 0) {
        em_active = em_default_dev;
        af_err err = em_backend_self.dev_activate(em_active);
        if (err != AF_SUCCESS) return err;
    }
    return AF_SUCCESS;
}

int em_dev_count(void) {
    return em_ndev;
}

int em_dev_active(void) {
    return em_active < 0 ? em_default_dev : em_active;
}

af_err em_dev_set_active(int dev) {
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    if (dev < 0 || dev >= em_ndev)
        return em_err(AF_ERR_DEVICE, "af_set_device", "device %d does not exist (%d available)",
                      dev, em_ndev);
    err = em_backend_self.dev_activate(dev);
    if (err == AF_SUCCESS) em_active = dev;
    return err;
}

const em_dev_props *em_dev_props_of(int dev) {
    return &em_props[dev];
}

bool em_manual_eval(void) {
    return em_manual;
}

void em_set_manual_eval(bool flag) {
    em_manual = flag;
}
