/*
 * Every device type without a file of its own (console, input, snd, i2c,
 * ...): the back-end serves config space (with CONFIG) and all its queues;
 * a dead back-end's rings are left alone, since the VMM knows no answer
 * the driver would take for an error.
 */
#include "vhost_user/device/internal.h"

const struct vu_type_ops vu_generic_ops = {
    .id = 0,
};
