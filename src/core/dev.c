#include "dev.h"

#include "err.h"
#include "thread.h"
#include "mem.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_once_t em_init_once = PTHREAD_ONCE_INIT;
static af_err em_init_err = AF_SUCCESS;
static char em_init_msg[512];
static int em_ndev;
int em_dev_default;
static em_dev_props em_props[EM_MAX_DEVICES];
EM_TLS em_thread em_thread_state = {.active_dev = -1};

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
    const char *env =
        em_backend_self.default_device_env ? getenv(em_backend_self.default_device_env) : NULL;
    if (env) {
        int d = atoi(env);
        if (d >= 0 && d < n) em_dev_default = d;
    }
    em_ndev = n;
}

af_err em_init(void) {
    pthread_once(&em_init_once, em_init_run);
    if (em_init_err != AF_SUCCESS) return em_err(em_init_err, "af_init", "%s", em_init_msg);
    em_thread *t = em_thread_self();
    if (t->active_dev < 0) {
        t->active_dev = em_dev_default;
        af_err err = em_backend_self.dev_activate(t->active_dev);
        if (err != AF_SUCCESS) return err;
    }
    return AF_SUCCESS;
}

int em_dev_count(void) {
    return em_ndev;
}

af_err em_dev_set_active(int dev) {
    af_err err = em_init();
    if (err != AF_SUCCESS) return err;
    if (dev < 0 || dev >= em_ndev)
        return em_err(AF_ERR_DEVICE, "af_set_device", "device %d does not exist (%d available)",
                      dev, em_ndev);
    err = em_backend_self.dev_activate(dev);
    if (err == AF_SUCCESS) em_thread_self()->active_dev = dev;
    return err;
}

const em_dev_props *em_dev_props_of(int dev) {
    return &em_props[dev];
}

void em_set_manual_eval(bool flag) {
    em_thread_self()->manual_eval = flag;
}
