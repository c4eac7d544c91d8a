# Holds a tun device open for generate.sh (a tun interface is down while no process holds it).
# Usage: python3 tun.py <name> <seconds>. Packets routed to it are captured as raw IP.
import fcntl
import os
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

fd = os.open('/dev/net/tun', os.O_RDWR)
fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
time.sleep(float(sys.argv[2]))
