/*
 * tundel.h - main deletes the tun devices of ended sessions in batches, on
 * a thread of its own.
 *
 * Whoever closes a tun device's last descriptor makes the kernel
 * unregister it and wait for an RCU grace period (16 ms per device on the
 * test VM). Deleted in one rtnetlink batch (tun_delete_many), many devices
 * share one grace period; the workers' close() of a deleted device is then
 * cheap. A batch still costs main's thread time proportional to its size
 * (about 1 ms per device with 10000 devices present), so it runs on a
 * thread and main only queues interface indexes.
 */
#ifndef OCMOD_TUNDEL_H
#define OCMOD_TUNDEL_H

#include <stdbool.h>

/* Start the thread (once). Returns false if it could not be started; then
 * tundel_add() does nothing and the descriptors' closes delete the devices. */
bool tundel_start(void);

/* Queue the device of interface index @p ifindex for deletion (within
 * TUNDEL_DELAY_MS, with whatever else is queued by then). */
#define TUNDEL_DELAY_MS 50
void tundel_add(int ifindex);

/* Delete everything queued now and wait for it, at most @p timeout_ms.
 * Returns true when the queue is empty and no batch is running; @p n_r
 * (optional) gets the number of devices deleted since the start. */
bool tundel_flush(unsigned timeout_ms, unsigned long *n_r);

#endif
