/* A small UDP generator for benches/linux-baseline.sh: FLOWS sockets bound to
 * source ports 40000.., connected to DST:PORT, sending PAYLOAD-byte datagrams
 * round robin with sendmmsg, for at most SECONDS and at most MAX packets.
 * Prints the number of packets the kernel accepted. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s DST PORT FLOWS SECONDS MAX PAYLOAD\n", argv[0]);
        return 2;
    }
    const char *dst = argv[1];
    int port = atoi(argv[2]), flows = atoi(argv[3]);
    double seconds = atof(argv[4]);
    long long max = atoll(argv[5]);
    int payload = atoi(argv[6]);
    if (flows < 1 || flows > 1024 || payload < 1 || payload > 1400) return 2;
    int *fds = calloc(flows, sizeof(int));
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, dst, &to.sin_addr);
    for (int i = 0; i < flows; i++) {
        fds[i] = socket(AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(40000 + i)};
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&me, sizeof me) < 0 ||
            connect(fds[i], (struct sockaddr *)&to, sizeof to) < 0) {
            perror("socket");
            return 1;
        }
    }
    char buf[1400];
    memset(buf, 0x5a, sizeof buf);
    struct iovec iov = {.iov_base = buf, .iov_len = payload};
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        msgs[i].msg_hdr.msg_iov = &iov;
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    long long sent = 0;
    double end = now() + seconds;
    for (int f = 0; sent < max; f = (f + 1) % flows) {
        int n = sendmmsg(fds[f], msgs, BATCH, 0);
        if (n > 0) sent += n;
        if ((f & 15) == 0 && now() >= end) break;
    }
    printf("%lld\n", sent);
    return 0;
}
