package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/store/etcdstore"
)

// The nodes of a cluster (serve --etcd) build IAM, AWS Organizations and
// VPC endpoints from their flags, and then apply the model log's changes
// to them in one order (modellog.go); other flags (the account, the
// default Region, the rule profile, the quotas, ListAliases' predefined
// names, the Regions allowed, the clock) decide calls too. Nodes given
// different ones would judge the same call differently, and number IAM's
// deletions differently (D78 binds by those numbers). The first node to
// start records a digest of them in etcd; a node whose digest differs
// refuses to start, saying so, instead of answering unlike the others.

// modelFlagsKey is where the digest lives, under the store's prefix (the
// store ignores it, as all of kmssim/).
const modelFlagsKey = "kmssim/flags"

// modelFingerprint is a digest of the flags that decide how c judges
// calls: those that build IAM, Organizations and VPC endpoints, with the
// contents of their files, and the account, default Region, rule
// profile, quotas, predefined aliases, allowed Regions and clock. The
// model flags count in the order given: a later one may replace an
// earlier (a policy set twice on one target), so that another order may
// build another model.
func (c *serveConfig) modelFingerprint() string {
	flags := append([]string{"account\x00" + c.account, "region\x00" + c.region, "rules\x00" + c.rules.String(),
		"quota\x00" + strconv.Itoa(c.quota), "grants-per-key\x00" + strconv.Itoa(c.grantsPerKey),
		"no-predefined-aliases\x00" + strconv.FormatBool(c.noPredefined), "clock\x00" + c.clock}, c.modelFlags...)
	for _, r := range c.allowRegions {
		flags = append(flags, "allow-region\x00"+r)
	}
	h := sha256.New()
	for _, f := range flags {
		h.Write([]byte(strconv.Itoa(len(f)) + ":" + f + ";"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkModelFlags records c's digest in its cluster when none is recorded
// yet, and otherwise refuses one that differs from the digest recorded.
func checkModelFlags(ctx context.Context, c *serveConfig) error {
	o := c.etcd
	cli, err := etcdstore.Dial(*o)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	key, fp := o.Prefix+modelFlagsKey, c.modelFingerprint()
	recorded, err := recordOnce(ctx, cli, key, fp)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if recorded != fp {
		return fmt.Errorf("this node's flags that decide calls (its IAM, Organizations and VPC endpoint flags such as --identity-policy, --principal, --scp, --vpc-endpoint, with their files; "+
			"--account, --region, --rules, --on-demand-quota, --grants-per-key, --no-predefined-aliases, --allow-region, --clock) differ from those of the cluster's first node: "+
			"give every node the same (to change them for the whole cluster, stop every node and delete the etcd key %q)", key)
	}
	return nil
}

// recordOnce stores value at key unless the key holds a value already
// (one node of a cluster records what every node then takes), and returns
// the value the key holds: value when this call stored it.
func recordOnce(ctx context.Context, cli *clientv3.Client, key, value string) (string, error) {
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, value)).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return "", err
	}
	if kvs := resp.Responses[0].GetResponseRange().GetKvs(); !resp.Succeeded && len(kvs) > 0 {
		return string(kvs[0].Value), nil
	}
	return value, nil // stored, or deleted since the comparison: value will do
}
