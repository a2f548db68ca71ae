# SPDX-License-Identifier: GPL-2.0
# Capture the kmalloc/kfree trace of this boot plus a busybox workload, as
# "a <ptr> <bytes_req> <bytes_alloc>" / "f <ptr>" lines, gzipped and base64-encoded.
T=/sys/kernel/tracing
mount -t tracefs tracefs $T 2>/dev/null
mkdir -p /tmp/w
for i in $(seq 1 300); do echo "file $i $(date)" > /tmp/w/f$i; done
cat /tmp/w/* > /dev/null
tar cf /tmp/w.tar /bin /lib /etc 2>/dev/null
mkdir -p /tmp/x && tar xf /tmp/w.tar -C /tmp/x
find / -xdev > /dev/null 2>&1
ls -lR /sys/class /sys/bus > /dev/null 2>&1
for i in $(seq 1 100); do sh -c 'echo $$ > /dev/null'; done
cat /proc/*/status > /dev/null 2>&1
ps > /dev/null; free > /dev/null; dmesg > /dev/null
ip link set lo up 2>/dev/null; ip addr > /dev/null 2>&1
rm -rf /tmp/w /tmp/x /tmp/w.tar
echo 0 > $T/tracing_on
echo "# $(grep -c kmalloc: $T/trace) kmalloc events, entries $(cat $T/buffer_total_size_kb) kb buffer"
awk '/ kmalloc: / { p = ""; r = ""; b = "";
		for (i = 1; i <= NF; i++) {
			if ($i ~ /^ptr=/) p = substr($i, 5);
			else if ($i ~ /^bytes_req=/) r = substr($i, 11);
			else if ($i ~ /^bytes_alloc=/) b = substr($i, 13);
		}
		print "a", p, r, b; next }
     / kfree: / { for (i = 1; i <= NF; i++) if ($i ~ /^ptr=/) print "f", substr($i, 5) }' \
	$T/trace | gzip -9 | base64
