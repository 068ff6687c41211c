/* LD_PRELOAD shim for test-segd: connect() on an IPv4 or IPv6 socket fails
 * with EPERM at once, which is what a systemd unit's IPAddressDeny= (a
 * cgroup BPF filter) does to a connection it denies. Unix sockets are left
 * alone (ZeroMQ ipc://, sd_notify).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <sys/socket.h>

int
connect (int fd, const struct sockaddr *addr, socklen_t len)
{
  int (*real) (int, const struct sockaddr *, socklen_t);

  if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6)) {
    errno = EPERM;
    return -1;
  }
  real = (int (*) (int, const struct sockaddr *, socklen_t)) dlsym (RTLD_NEXT,
      "connect");
  return real ? real (fd, addr, len) : (errno = ENOSYS, -1);
}
