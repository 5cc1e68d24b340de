// SPDX-License-Identifier: GPL-2.0
/*
 * xtcp: counters and /proc/net files. Counters are per-CPU, per network
 * namespace, bumped where the event happens and summed when
 * /proc/net/xtcp_stat is read ("Name value" lines). /proc/net/xtcp lists
 * the namespace's connections (xtcp_ehash_seq_show()), /proc/net/xtcp_ss
 * the same with ss's figures (xtcp_ss_show()).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/ip.h>
#include <net/snmp.h>
#include <net/sock.h>

#include "xtcp.h"

static const struct snmp_mib xtcp_mib_list[] = {
	SNMP_MIB_ITEM("ActiveOpens", XTCP_MIB_ACTIVEOPENS),
	SNMP_MIB_ITEM("ConnectPortsScanned", XTCP_MIB_CONNECTPORTSCANNED),
	SNMP_MIB_ITEM("ConnectMapWords", XTCP_MIB_CONNECTMAPWORDS),
	SNMP_MIB_ITEM("ConnectNoPort", XTCP_MIB_CONNECTNOPORT),
	SNMP_MIB_ITEM("TimeWaitReused", XTCP_MIB_TWREUSED),
	SNMP_MIB_ITEM("TimeWait", XTCP_MIB_TIMEWAIT),
	SNMP_MIB_ITEM("Established", XTCP_MIB_ESTABLISHED),
	SNMP_MIB_ITEM("ConnectRefused", XTCP_MIB_CONNREFUSED),
	SNMP_MIB_ITEM("ConnectTimedOut", XTCP_MIB_CONNTIMEDOUT),
	SNMP_MIB_ITEM("SynRetrans", XTCP_MIB_SYNRETRANS),
	SNMP_MIB_ITEM("InSegs", XTCP_MIB_INSEGS),
	SNMP_MIB_ITEM("OutSegs", XTCP_MIB_OUTSEGS),
	SNMP_MIB_ITEM("OutRsts", XTCP_MIB_OUTRSTS),
	SNMP_MIB_ITEM("InCsumErrors", XTCP_MIB_INCSUMERRORS),
	SNMP_MIB_ITEM("InMalformed", XTCP_MIB_INMALFORMED),
	SNMP_MIB_ITEM("SynSentBadAck", XTCP_MIB_INBADACK),
	SNMP_MIB_ITEM("IcmpErrors", XTCP_MIB_ICMPERRORS),
	SNMP_MIB_ITEM("IcmpOutOfWindow", XTCP_MIB_ICMPOUTOFWINDOW),
	SNMP_MIB_ITEM("OutNoRoute", XTCP_MIB_OUTNOROUTE),
	SNMP_MIB_ITEM("RetransSegs", XTCP_MIB_RETRANSSEGS),
	SNMP_MIB_ITEM("FastRetrans", XTCP_MIB_FASTRETRANS),
	SNMP_MIB_ITEM("Timeouts", XTCP_MIB_RTOS),
	SNMP_MIB_ITEM("OfoQueue", XTCP_MIB_OFOQUEUE),
	SNMP_MIB_ITEM("PAWSEstab", XTCP_MIB_PAWSESTAB),
	SNMP_MIB_ITEM("RcvPruned", XTCP_MIB_RCVPRUNED),
	SNMP_MIB_ITEM("IcmpInCsumErrors", XTCP_MIB_ICMPCSUMERRORS),
	SNMP_MIB_ITEM("TCPSACKReneging", XTCP_MIB_SACKRENEGING),
	SNMP_MIB_ITEM("TCPDSACKRecv", XTCP_MIB_DSACKRECV),
	SNMP_MIB_ITEM("TCPDSACKOfoRecv", XTCP_MIB_DSACKOFORECV),
	SNMP_MIB_ITEM("TCPDSACKRecvSegs", XTCP_MIB_DSACKRECVSEGS),
	SNMP_MIB_ITEM("TCPDSACKIgnoredDubious", XTCP_MIB_DSACKIGNOREDDUBIOUS),
	SNMP_MIB_ITEM("TCPChallengeACK", XTCP_MIB_CHALLENGEACK),
	SNMP_MIB_ITEM("TCPSYNChallenge", XTCP_MIB_SYNCHALLENGE),
	SNMP_MIB_ITEM("TCPACKSkippedChallenge", XTCP_MIB_ACKSKIPPEDCHALLENGE),
	SNMP_MIB_ITEM("TCPACKSkippedSeq", XTCP_MIB_ACKSKIPPEDSEQ),
	SNMP_MIB_ITEM("TCPACKSkippedPAWS", XTCP_MIB_ACKSKIPPEDPAWS),
	SNMP_MIB_ITEM("TCPACKSkippedTimeWait", XTCP_MIB_ACKSKIPPEDTIMEWAIT),
	SNMP_MIB_ITEM("PAWSActive", XTCP_MIB_PAWSACTIVE),
	SNMP_MIB_ITEM("TCPAbortOnData", XTCP_MIB_ABORTONDATA),
	SNMP_MIB_ITEM("TCPRcvCollapsed", XTCP_MIB_RCVCOLLAPSED),
	SNMP_MIB_ITEM("OfoPruned", XTCP_MIB_OFOPRUNED),
	SNMP_MIB_ITEM("PruneCalled", XTCP_MIB_PRUNECALLED),
	SNMP_MIB_ITEM("DelayedACKLost", XTCP_MIB_DELAYEDACKLOST),
	SNMP_MIB_ITEM("TCPZeroWindowDrop", XTCP_MIB_ZEROWINDOWDROP),
	SNMP_MIB_ITEM("TCPMemoryPressures", XTCP_MIB_MEMORYPRESSURES),
	SNMP_MIB_ITEM("TCPAbortOnMemory", XTCP_MIB_ABORTONMEMORY),
	SNMP_MIB_ITEM("TCPTimeWaitOverflow", XTCP_MIB_TWOVERFLOW),
	SNMP_MIB_ITEM("TCPKeepAlive", XTCP_MIB_KEEPALIVE),
	SNMP_MIB_ITEM("TCPAbortOnTimeout", XTCP_MIB_ABORTONTIMEOUT),
	SNMP_MIB_ITEM("PassiveOpens", XTCP_MIB_PASSIVEOPENS),
	SNMP_MIB_ITEM("ListenOverflows", XTCP_MIB_LISTENOVERFLOWS),
	SNMP_MIB_ITEM("ListenDrops", XTCP_MIB_LISTENDROPS),
	SNMP_MIB_ITEM("SyncookiesSent", XTCP_MIB_SYNCOOKIESSENT),
	SNMP_MIB_ITEM("SyncookiesRecv", XTCP_MIB_SYNCOOKIESRECV),
	SNMP_MIB_ITEM("SyncookiesFailed", XTCP_MIB_SYNCOOKIESFAILED),
	SNMP_MIB_ITEM("TCPReqQFullDoCookies", XTCP_MIB_REQQFULLDOCOOKIES),
	SNMP_MIB_ITEM("TCPReqQFullDrop", XTCP_MIB_REQQFULLDROP),
	SNMP_MIB_ITEM("SynAckRetrans", XTCP_MIB_SYNACKRETRANS),
	SNMP_MIB_ITEM("TCPACKSkippedSynRecv", XTCP_MIB_ACKSKIPPEDSYNRECV),
	SNMP_MIB_ITEM("EmbryonicRsts", XTCP_MIB_EMBRYONICRSTS),
	SNMP_MIB_ITEM("EcnCeReceived", XTCP_MIB_ECNCE),
	SNMP_MIB_ITEM("EcnEceReductions", XTCP_MIB_ECNECE),
	SNMP_MIB_SENTINEL
};

static int xtcp_stat_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;
	struct xtcp_net *xn = xtcp_pernet(net);
	int i;

	for (i = 0; xtcp_mib_list[i].name; i++)
		seq_printf(seq, "%s %lu\n", xtcp_mib_list[i].name,
			   snmp_fold_field(xn->mib, xtcp_mib_list[i].entry));
	return 0;
}

/*
 * /proc/net/xtcp_sockstat, as the TCP line of /proc/net/sockstat: xtcp
 * sockets in this namespace's tables, orphans, TIME_WAIT entries of the
 * namespace, sockets allocated and socket memory (pages), host-wide;
 * the memory counts the per-CPU reserves, unlike Linux's sockstat.
 */
static int xtcp_sockstat_show(struct seq_file *seq, void *v)
{
	struct net *net = seq->private;

	seq_printf(seq, "XTCP: inuse %d orphan %d tw %d alloc %lld mem %ld\n",
		   sock_prot_inuse_get(net, &xtcp_prot),
		   xtcp_orphan_count_sum(),
		   atomic_read(&xtcp_pernet(net)->tw_count),
		   percpu_counter_sum_positive(xtcp_prot.sockets_allocated),
		   xtcp_memory_allocated_sum());
	return 0;
}

int xtcp_mib_init_net(struct xtcp_net *xn)
{
	BUILD_BUG_ON(ARRAY_SIZE(xtcp_mib_list) != XTCP_MIB_MAX + 1);

	xn->mib = alloc_percpu(struct xtcp_mib);
	if (!xn->mib)
		return -ENOMEM;
	if (!proc_create_net_single("xtcp_stat", 0444, xn->net->proc_net,
				    xtcp_stat_show, NULL))
		goto err_mib;
	if (!proc_create_net_single("xtcp", 0444, xn->net->proc_net,
				    xtcp_proc_show, NULL))
		goto err_stat;
	if (!proc_create_net_single("xtcp_sockstat", 0444, xn->net->proc_net,
				    xtcp_sockstat_show, NULL))
		goto err_xtcp;
	if (!proc_create_net_single("xtcp_ss", 0444, xn->net->proc_net,
				    xtcp_ss_show, NULL))
		goto err_sockstat;
	return 0;

err_sockstat:
	remove_proc_entry("xtcp_sockstat", xn->net->proc_net);
err_xtcp:
	remove_proc_entry("xtcp", xn->net->proc_net);
err_stat:
	remove_proc_entry("xtcp_stat", xn->net->proc_net);
err_mib:
	free_percpu(xn->mib);
	return -ENOMEM;
}

void xtcp_mib_exit_net(struct xtcp_net *xn)
{
	remove_proc_entry("xtcp_ss", xn->net->proc_net);
	remove_proc_entry("xtcp_sockstat", xn->net->proc_net);
	remove_proc_entry("xtcp", xn->net->proc_net);
	remove_proc_entry("xtcp_stat", xn->net->proc_net);
	free_percpu(xn->mib);
}
