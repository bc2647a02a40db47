package main

import (
	"context"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/internal/proctest"
)

// rss is proctest.RSS, 0 where it cannot be read.
func rss(pid int) int64 {
	n, _ := proctest.RSS(pid)
	return n
}

// cpuOf sums the CPU time of the processes.
func cpuOf(pids []int) time.Duration {
	var d time.Duration
	for _, p := range pids {
		c, _ := proctest.CPU(p)
		d += c
	}
	return d
}

// etcdRequests sums, over the members of e, the gRPC requests of method
// (Range, Txn) that they have answered, from their /metrics.
func etcdRequests(b *testing.B, e *etcdProcs, method string) int64 {
	var n int64
	found := false
	prefix := `grpc_server_handled_total{grpc_code="OK",grpc_method="` + method + `"`
	for _, mc := range e.configs {
		_, body := httpGet(b, mc.ClientURL+"/metrics")
		for line := range strings.Lines(body) {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				_, count, _ := strings.Cut(strings.TrimSpace(rest), " ")
				v, err := strconv.ParseFloat(count, 64)
				if err != nil {
					b.Fatalf("etcd metrics: %q: %v", line, err)
				}
				n += int64(v)
				found = true
			}
		}
	}
	if !found {
		b.Fatalf("etcd's /metrics count no %s requests", method)
	}
	return n
}

// drive makes n calls of call(i) from clients goroutines and returns the
// CPU the processes pids used meanwhile, per call, for each group.
func drive(b *testing.B, clients, n int, call func(i int) error, groups ...[]int) []time.Duration {
	before := make([]time.Duration, len(groups))
	for i, g := range groups {
		before[i] = cpuOf(g)
	}
	if err := proctest.Drive(clients, n, call); err != nil {
		b.Fatal(err)
	}
	out := make([]time.Duration, len(groups))
	for i, g := range groups {
		out[i] = (cpuOf(g) - before[i]) / time.Duration(n)
	}
	return out
}

// BenchmarkClusterCost measures, in one run, what a cluster node costs
// beside a single kmssim: three kmssim serve --etcd nodes over a
// three-member etcd cluster (child processes: etcd without fsync, as
// internal/etcdtest runs it), a serve --mem and a serve --db (bbolt,
// fsynced) node, each driven over loopback by AWS SDK clients. It reports
// the kmssim CPU per call read from /proc: linearizable DescribeKey and
// Encrypt at 8 clients on one node against --mem (target ≤ 1.5), the same
// with 24 clients spread over the three nodes, CreateKey over the nodes
// (all three nodes' CPU, as each applies every write) against --db
// (target ≤ 2), UpdateKeyDescription of each key on another node than
// the one that created it against --db, memory per key of a node against
// --mem (target ≤ 1.2),
// and the etcd members' CPU per call beside them, with the etcd requests
// per call that their /metrics count (reads: the revision reads the
// nodes share, and the reads of groups that are not only creations;
// transactions: the writes). b.N is the number of
// reads; b.N/2 keys are created on each server. It runs only when named in
// -bench:
//
//	go test -run '^$' -bench ClusterCost -benchtime 20000x ./cmd/kmssim
//
// KMSSIM_CLUSTER_ARGS adds serve arguments to the cluster nodes (split at
// spaces), such as --share-key-usage to measure what sharing key usage
// (D79) costs.
func BenchmarkClusterCost(b *testing.B) {
	if pat := flag.Lookup("test.bench"); pat == nil || !strings.Contains(pat.Value.String(), "ClusterCost") {
		b.Skip("runs only when asked for: -bench ClusterCost")
	}
	bin := kmssimBinary(b)
	e := startEtcdProcs(b)
	cluster := startCluster(b, bin, e, append([]string{"--etcd-prefix", "bench/"}, strings.Fields(os.Getenv("KMSSIM_CLUSTER_ARGS"))...)...)
	mem := startNode(b, bin, "127.0.0.1:0", []string{"--mem"})
	db := startNode(b, bin, "127.0.0.1:0", []string{"--db", filepath.Join(b.TempDir(), "kms.db")})
	var etcdPIDs, nodePIDs []int
	for _, c := range e.cmds {
		etcdPIDs = append(etcdPIDs, c.Process.Pid)
	}
	for _, n := range cluster {
		nodePIDs = append(nodePIDs, n.cmd.Process.Pid)
	}
	pid := func(n *node) []int { return []int{n.cmd.Process.Pid} }
	const clients = 8
	client := func(n *node) *awskms.Client {
		return sdkOver(n.addr, &http.Transport{MaxIdleConnsPerHost: 3 * clients})
	}
	memC, dbC := client(mem), client(db)
	var nodeC []*awskms.Client
	for _, n := range cluster {
		nodeC = append(nodeC, client(n))
	}
	ctx := context.Background()
	keys := max(b.N/2, 100)
	create := func(c func(i int) *awskms.Client, ids []string) func(i int) error {
		return func(i int) error {
			out, err := c(i).CreateKey(ctx, &awskms.CreateKeyInput{})
			if err == nil {
				ids[i] = *out.KeyMetadata.KeyId
			}
			return err
		}
	}
	b.ResetTimer()
	memIDs, clIDs := make([]string, keys), make([]string, keys)
	rssMem0, rssNode0 := rss(mem.cmd.Process.Pid), rss(cluster[0].cmd.Process.Pid)
	memWrite := drive(b, clients, keys, create(func(int) *awskms.Client { return memC }, memIDs), pid(mem))[0]
	dbIDs := make([]string, keys)
	dbWrite := drive(b, clients, keys, create(func(int) *awskms.Client { return dbC }, dbIDs), pid(db))[0]
	ranges0, txns0 := etcdRequests(b, e, "Range"), etcdRequests(b, e, "Txn")
	clWrite := drive(b, clients, keys, create(func(i int) *awskms.Client { return nodeC[i%3] }, clIDs), nodePIDs, etcdPIDs)
	writeRanges, writeTxns := etcdRequests(b, e, "Range")-ranges0, etcdRequests(b, e, "Txn")-txns0
	// Each node has applied every key once the next read has caught up.
	if _, err := nodeC[0].DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &clIDs[keys-1]}); err != nil {
		b.Fatal(err)
	}
	for _, n := range cluster {
		_, st := httpGet(b, "http://"+n.addr+"/readyz")
		b.Logf("node %s after the writes: %s", n.addr, strings.TrimSpace(st))
	}
	rssMem, rssNode := rss(mem.cmd.Process.Pid)-rssMem0, rss(cluster[0].cmd.Process.Pid)-rssNode0

	// Each key's description changed once, on another node than the one
	// that created it.
	update := func(c func(i int) *awskms.Client, ids []string) func(i int) error {
		return func(i int) error {
			_, err := c(i).UpdateKeyDescription(ctx, &awskms.UpdateKeyDescriptionInput{KeyId: &ids[i], Description: aws.String(strconv.Itoa(i))})
			return err
		}
	}
	dbUpdate := drive(b, clients, keys, update(func(int) *awskms.Client { return dbC }, dbIDs), pid(db))[0]
	ranges0, txns0 = etcdRequests(b, e, "Range"), etcdRequests(b, e, "Txn")
	clUpdate := drive(b, clients, keys, update(func(i int) *awskms.Client { return nodeC[(i+1)%3] }, clIDs), nodePIDs, etcdPIDs)
	updateRanges, updateTxns := etcdRequests(b, e, "Range")-ranges0, etcdRequests(b, e, "Txn")-txns0

	describe := func(c func(i int) *awskms.Client, ids []string) func(i int) error {
		return func(i int) error {
			_, err := c(i).DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: &ids[i%len(ids)]})
			return err
		}
	}
	plaintext := make([]byte, 64)
	encrypt := func(c func(i int) *awskms.Client, ids []string) func(i int) error {
		return func(i int) error {
			_, err := c(i).Encrypt(ctx, &awskms.EncryptInput{KeyId: &ids[i%len(ids)], Plaintext: plaintext})
			return err
		}
	}
	one := func(int) *awskms.Client { return nodeC[0] }
	spread := func(i int) *awskms.Client { return nodeC[i%3] }
	memDescribe := drive(b, clients, b.N, describe(func(int) *awskms.Client { return memC }, memIDs), pid(mem))[0]
	ranges0 = etcdRequests(b, e, "Range")
	clDescribe := drive(b, clients, b.N, describe(one, clIDs), pid(cluster[0]), etcdPIDs)
	readRanges := etcdRequests(b, e, "Range") - ranges0
	clDescribe3 := drive(b, 3*clients, b.N, describe(spread, clIDs), nodePIDs, etcdPIDs)
	memEncrypt := drive(b, clients, b.N, encrypt(func(int) *awskms.Client { return memC }, memIDs), pid(mem))[0]
	clEncrypt := drive(b, clients, b.N, encrypt(one, clIDs), pid(cluster[0]), etcdPIDs)
	b.StopTimer()

	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(float64(clDescribe[0])/float64(memDescribe), "node/mem-DescribeKey")
	b.ReportMetric(float64(clDescribe3[0])/float64(memDescribe), "3nodes/mem-DescribeKey")
	b.ReportMetric(float64(clEncrypt[0])/float64(memEncrypt), "node/mem-Encrypt")
	b.ReportMetric(float64(clWrite[0])/float64(dbWrite), "3nodes/db-CreateKey")
	b.ReportMetric(float64(clUpdate[0])/float64(dbUpdate), "3nodes/db-UpdateKeyDescription")
	b.ReportMetric(float64(rssNode)/float64(rssMem), "node/mem-bytes/key")
	b.ReportMetric(us(memDescribe), "mem-µs/DescribeKey")
	b.ReportMetric(us(clDescribe[0]), "node-µs/DescribeKey")
	b.ReportMetric(us(clDescribe[1]), "etcd-µs/DescribeKey")
	b.ReportMetric(us(clDescribe3[1]), "etcd-µs/DescribeKey-3nodes")
	b.ReportMetric(us(memEncrypt), "mem-µs/Encrypt")
	b.ReportMetric(us(clEncrypt[0]), "node-µs/Encrypt")
	b.ReportMetric(us(memWrite), "mem-µs/CreateKey")
	b.ReportMetric(us(dbWrite), "db-µs/CreateKey")
	b.ReportMetric(us(clWrite[0]), "3nodes-µs/CreateKey")
	b.ReportMetric(us(clWrite[1]), "etcd-µs/CreateKey")
	b.ReportMetric(float64(readRanges)/float64(b.N), "etcd-reads/DescribeKey")
	b.ReportMetric(float64(writeRanges)/float64(keys), "etcd-reads/CreateKey")
	b.ReportMetric(float64(writeTxns)/float64(keys), "etcd-txns/CreateKey")
	b.ReportMetric(us(dbUpdate), "db-µs/UpdateKeyDescription")
	b.ReportMetric(us(clUpdate[0]), "3nodes-µs/UpdateKeyDescription")
	b.ReportMetric(us(clUpdate[1]), "etcd-µs/UpdateKeyDescription")
	b.ReportMetric(float64(updateRanges)/float64(keys), "etcd-reads/UpdateKeyDescription")
	b.ReportMetric(float64(updateTxns)/float64(keys), "etcd-txns/UpdateKeyDescription")
	b.ReportMetric(float64(rssMem)/float64(keys), "mem-bytes/key")
	b.ReportMetric(float64(rssNode)/float64(keys), "node-bytes/key")
}
