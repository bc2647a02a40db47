package main

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// Sharing GetKeyLastUsage's records between the nodes of a cluster
// (serve --etcd --share-key-usage; decision D79 in package kms). Each node takes the last
// uses its calls made (kms.Service.TakeKeyUses) at most every
// --usage-share-every and writes them to etcd, one record a key, under
// the store's prefix (usageDir, which the store ignores); every node
// watches the records and merges them (MergeKeyUses). A record is
// replaced only by a later use: its value begins with the use's instant,
// request ID, operation and event ID, so that etcd's own comparison of
// values decides, and two nodes writing one key at once keep the later
// use whichever writes last. A key's deletion removes its record, unless
// it holds a later use (of a key created again under its ARN). The
// cluster's tracking start
// (GetKeyLastUsage's TrackingStartDate for older keys) is written once,
// by the first node that starts, and taken by every node after.

// usageDir is where the key uses live under the store's prefix:
// usageDir+"start" holds the tracking start, usageDir+"k/<key ARN>" a
// key's last use (usageValue).
const usageDir = "kmssim/usage/"

// usageEpoch shifts Unix microseconds (which may be negative: the model's
// clock may read before 1970) so that every instant of years 1–9999 is
// positive and, written in usageDigits digits, sorts as it compares.
const (
	usageEpoch  = 100_000_000_000_000_000
	usageDigits = 18
)

// usageValue encodes u, which node wrote, as a record's value: its
// instant, then its request ID, operation and event ID, and node,
// separated by zero bytes (below any byte of an ID, so that values
// compare as kms.MergeKeyUses compares uses: by instant, request ID,
// operation and event ID).
func usageValue(u kms.KeyUse, node string) string {
	at := strconv.FormatInt(u.At.UnixMicro()+usageEpoch, 10)
	return strings.Repeat("0", max(0, usageDigits-len(at))) + at + "\x00" + u.RequestID + "\x00" + u.Operation + "\x00" + u.EventID + "\x00" + node
}

// usageBound is the least value above every record of u (whichever node
// wrote it) and below every record of a later use.
func usageBound(u kms.KeyUse) string {
	v := usageValue(u, "")
	return v[:len(v)-1] + "\x01"
}

// parseUsage decodes a record of key ARN arn, and the node that wrote it.
func parseUsage(arn string, value []byte) (use kms.KeyUse, node string, ok bool) {
	f := strings.Split(string(value), "\x00")
	if len(f) != 5 || len(f[0]) != usageDigits {
		return kms.KeyUse{}, "", false
	}
	at, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return kms.KeyUse{}, "", false
	}
	return kms.KeyUse{KeyArn: arn, At: time.UnixMicro(at - usageEpoch).UTC(), RequestID: f[1], Operation: f[2], EventID: f[3]}, f[4], true
}

// usageShare carries a node's key uses to the others through etcd.
type usageShare struct {
	cli     *clientv3.Client
	prefix  string // the store's prefix + usageDir
	records string // prefix + "k/": the keys' records, each followed by its key's ARN
	log     *slog.Logger
	svc     *kms.Service

	mu      sync.Mutex
	pending map[string]kms.KeyUse // taken from svc, not yet written (a write failed), by key ARN
	failing bool                  // the last write failed (warned once)
	cancel  context.CancelFunc
	done    sync.WaitGroup
	timeout time.Duration
	maxOps  int // uses in one transaction: the members' --max-txn-ops

	// node marks this node's records, which its watch brings back and
	// need not be merged again.
	node string
}

// newUsageShare connects to the etcd cluster of o.
func newUsageShare(o *etcdstore.Options, log *slog.Logger) (*usageShare, error) {
	cli, err := etcdstore.Dial(*o)
	if err != nil {
		return nil, fmt.Errorf("sharing key usage: connect: %w", err)
	}
	maxOps := o.MaxTxnOps
	if maxOps <= 0 {
		maxOps = etcdstore.DefaultMaxTxnOps
	}
	return &usageShare{cli: cli, prefix: o.Prefix + usageDir, records: o.Prefix + usageDir + "k/", log: log, pending: map[string]kms.KeyUse{},
		timeout: o.DialTimeout, maxOps: maxOps, node: strconv.FormatUint(rand.Uint64(), 36)}, nil
}

// trackingStart returns the cluster's tracking start: the one stored, or
// now, which it stores, when there is none yet.
func (u *usageShare) trackingStart(ctx context.Context, now time.Time) (time.Time, error) {
	v, err := recordOnce(ctx, u.cli, u.prefix+"start", now.UTC().Format(time.RFC3339Nano))
	if err != nil {
		return time.Time{}, fmt.Errorf("sharing key usage: the tracking start: %w", err)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("sharing key usage: the tracking start %q: %w", v, err)
	}
	return t, nil
}

// start merges the uses stored so far into svc, then, until stop, writes
// svc's uses every every and merges the other nodes' as etcd's watch
// brings them.
func (u *usageShare) start(svc *kms.Service, every time.Duration) error {
	u.svc = svc
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel = cancel
	from, err := u.load(ctx)
	if err != nil {
		cancel()
		return err
	}
	u.done.Add(2)
	go func() {
		defer u.done.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				// The last uses, before the node stops.
				wctx, wcancel := context.WithTimeout(context.Background(), min(u.timeout, time.Second))
				u.write(wctx)
				wcancel()
				return
			case <-t.C:
				wctx, wcancel := context.WithTimeout(ctx, u.timeout)
				u.write(wctx)
				wcancel()
			}
		}
	}()
	go func() {
		defer u.done.Done()
		u.follow(ctx, from)
	}()
	return nil
}

// load merges every stored use into the service and returns the revision
// to watch from.
func (u *usageShare) load(ctx context.Context) (int64, error) {
	lctx, cancel := context.WithTimeout(ctx, u.timeout)
	defer cancel()
	resp, err := u.cli.Get(lctx, u.records, clientv3.WithPrefix())
	if err != nil {
		return 0, fmt.Errorf("sharing key usage: read: %w", err)
	}
	uses := make([]kms.KeyUse, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		if use, _, ok := parseUsage(strings.TrimPrefix(string(kv.Key), u.records), kv.Value); ok {
			uses = append(uses, use)
		}
	}
	if _, err := u.svc.MergeKeyUses(lctx, uses); err != nil {
		return 0, fmt.Errorf("sharing key usage: merge: %w", err)
	}
	return resp.Header.Revision + 1, nil
}

// follow merges the records etcd's watch brings from revision from on,
// until ctx ends; a watch that ends or falls behind a compaction, or
// whose records could not be merged, starts again after loading every
// record anew.
func (u *usageShare) follow(ctx context.Context, from int64) {
	warned := false // once a streak of failures, not at each retry
	for ctx.Err() == nil {
		wctx, wcancel := context.WithCancel(ctx)
		wch := u.cli.Watch(wctx, u.records, clientv3.WithPrefix(), clientv3.WithRev(from))
		for wr := range wch {
			if err := wr.Err(); err != nil || wr.CompactRevision != 0 {
				break
			}
			var uses []kms.KeyUse
			for _, ev := range wr.Events {
				if ev.Type != clientv3.EventTypePut {
					continue // a deletion
				}
				if use, node, ok := parseUsage(strings.TrimPrefix(string(ev.Kv.Key), u.records), ev.Kv.Value); ok && node != u.node {
					uses = append(uses, use) // another node's (this node's own came from its service)
				}
			}
			if len(uses) > 0 {
				mctx, cancel := context.WithTimeout(ctx, u.timeout)
				_, err := u.svc.MergeKeyUses(mctx, uses)
				cancel()
				if err != nil {
					if ctx.Err() == nil && !warned {
						u.log.Warn("sharing key usage: merging the other nodes' uses failed; reading them again", "err", err)
						warned = true
					}
					break
				}
			}
			from = wr.Header.Revision + 1
		}
		wcancel()
		select {
		case <-ctx.Done():
			return
		case <-time.After(100 * time.Millisecond):
		}
		if f, err := u.load(ctx); err == nil {
			from = f
			if warned {
				u.log.Info("sharing key usage: following the other nodes' uses again")
				warned = false
			}
		} else if ctx.Err() == nil && !warned {
			u.log.Warn("sharing key usage: the watch ended, and reading the records again failed; trying again", "err", err)
			warned = true
		}
	}
}

// write writes the uses taken from the service, and those a failed write
// left, each as its key's record unless the record holds a later use; a
// deleted key's record is removed. What fails to be written is kept for
// the next write (a later use of the key replaces it).
func (u *usageShare) write(ctx context.Context) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, use := range u.svc.TakeKeyUses(nil) {
		if p, ok := u.pending[use.KeyArn]; ok && !use.Gone && !p.Gone && usageValue(p, "") > usageValue(use, "") {
			continue
		}
		u.pending[use.KeyArn] = use
	}
	var ops []clientv3.Op
	var arns []string
	flush := func() {
		if len(ops) == 0 {
			return
		}
		if _, err := u.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			if !u.failing { // once a streak, not every interval while etcd is away
				u.log.Warn("sharing key usage: writing uses failed; trying again at each interval", "uses", len(ops), "err", err)
				u.failing = true
			}
		} else {
			if u.failing {
				u.log.Info("sharing key usage: writing uses again")
				u.failing = false
			}
			for _, arn := range arns {
				delete(u.pending, arn)
			}
		}
		ops, arns = ops[:0], arns[:0]
	}
	for arn, use := range u.pending {
		key := u.records + arn
		if use.Gone {
			// Only a record of that last use, or of an earlier one: a key
			// created again under the ARN (a multi-Region replica) may
			// have a later one.
			ops = append(ops, clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "<", usageBound(use))},
				[]clientv3.Op{clientv3.OpDelete(key)}, nil))
		} else {
			v := usageValue(use, u.node)
			ops = append(ops, clientv3.OpTxn(
				[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)},
				[]clientv3.Op{clientv3.OpPut(key, v)},
				[]clientv3.Op{clientv3.OpTxn([]clientv3.Cmp{clientv3.Compare(clientv3.Value(key), "<", v)},
					[]clientv3.Op{clientv3.OpPut(key, v)}, nil)}))
		}
		arns = append(arns, arn)
		if len(ops) == max(1, u.maxOps-2) { // etcd allows a nested transaction maxOps less the outer one's
			flush()
		}
	}
	flush()
}

// close writes the last uses, stops following the records and closes the
// connection.
func (u *usageShare) close() error {
	if u.cancel != nil {
		u.cancel()
		u.done.Wait()
	}
	return u.cli.Close()
}
