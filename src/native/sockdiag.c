/*
 * sock_diag for the local resolver: the inode of ONE socket, found by its exact address tuple
 * (SOCK_DIAG_BY_FAMILY without NLM_F_DUMP: a hash lookup in the kernel, microseconds), where
 * reading /proc/net/tcp walks the whole established hash (milliseconds on a large machine) and a
 * client that lives 5 ms is gone by the time it is done.
 *
 *   inode(family 4|6, protocol 6|17, localIp, localPort, remoteIp, remotePort)
 *     → the socket's inode (> 0), 0 when there is no such socket, -errno on failure.
 *
 * The netlink socket is opened on first use in the caller's network namespace and kept.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <node_api.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

static int nl_fd = -1;
static unsigned int nl_seq = 0;

static int open_netlink(void) {
  if (nl_fd >= 0) return 0;
  int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (fd < 0) return -errno;
  struct timeval tv = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  nl_fd = fd;
  return 0;
}

static double lookup(int family, int protocol, const char *lip, int lport, const char *rip,
                     int rport) {
  struct {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 r;
  } req;
  memset(&req, 0, sizeof req);
  if (inet_pton(family, lip, req.r.id.idiag_src) != 1 ||
      inet_pton(family, rip, req.r.id.idiag_dst) != 1)
    return -EINVAL;
  int err = open_netlink();
  if (err < 0) return err;
  req.nlh.nlmsg_len = sizeof req;
  req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  req.nlh.nlmsg_flags = NLM_F_REQUEST;
  req.nlh.nlmsg_seq = ++nl_seq;
  req.r.sdiag_family = (unsigned char)family;
  req.r.sdiag_protocol = (unsigned char)protocol;
  req.r.idiag_states = ~0U;
  req.r.id.idiag_sport = htons((unsigned short)lport);
  req.r.id.idiag_dport = htons((unsigned short)rport);
  req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  struct sockaddr_nl to;
  memset(&to, 0, sizeof to);
  to.nl_family = AF_NETLINK;
  if (sendto(nl_fd, &req, sizeof req, 0, (struct sockaddr *)&to, sizeof to) < 0) return -errno;
  long buf[2048];
  for (;;) {
    ssize_t n = recv(nl_fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    int len = (int)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != nl_seq) continue; /* an answer to an earlier, timed-out request */
      if (h->nlmsg_type == NLMSG_ERROR) {
        struct nlmsgerr *e = (struct nlmsgerr *)NLMSG_DATA(h);
        return e->error == -ENOENT ? 0 : e->error;
      }
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
        struct inet_diag_msg *m = (struct inet_diag_msg *)NLMSG_DATA(h);
        return (double)m->idiag_inode;
      }
      if (h->nlmsg_type == NLMSG_DONE) return 0;
    }
  }
}

static napi_value js_inode(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_value out;
  if (argc < 6) {
    napi_create_double(env, -EINVAL, &out);
    return out;
  }
  int32_t family, protocol, lport, rport;
  char lip[INET6_ADDRSTRLEN + 1], rip[INET6_ADDRSTRLEN + 1];
  size_t got;
  if (napi_get_value_int32(env, argv[0], &family) != napi_ok ||
      napi_get_value_int32(env, argv[1], &protocol) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], lip, sizeof lip, &got) != napi_ok ||
      napi_get_value_int32(env, argv[3], &lport) != napi_ok ||
      napi_get_value_string_utf8(env, argv[4], rip, sizeof rip, &got) != napi_ok ||
      napi_get_value_int32(env, argv[5], &rport) != napi_ok) {
    napi_create_double(env, -EINVAL, &out);
    return out;
  }
  double r = lookup(family == 6 ? AF_INET6 : AF_INET, protocol, lip, lport, rip, rport);
  napi_create_double(env, r, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "inode", NAPI_AUTO_LENGTH, js_inode, NULL, &fn);
  napi_set_named_property(env, exports, "inode", fn);
  return exports;
}
