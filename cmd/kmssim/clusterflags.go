package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// The nodes of a cluster (serve --etcd) build IAM, AWS Organizations and
// VPC endpoints from their flags, and then apply the model log's changes
// to them in one order (modellog.go). Nodes given different flags would
// judge the same call differently, and number IAM's deletions differently
// (D78 binds by those numbers). The first node to start records a digest
// of its flags and account in etcd; a node whose digest differs refuses to
// start, saying so, instead of answering unlike the others.

// modelFlagsKey is where the digest lives, under the store's prefix (the
// store ignores it, as all of kmssim/).
const modelFlagsKey = "kmssim/flags"

// modelFingerprint is a digest of c's account and the flags that build
// IAM, Organizations and VPC endpoints, with the contents of their files.
// The flags are taken in an order of their own: given in another order,
// they build the same model.
func (c *serveConfig) modelFingerprint() string {
	flags := append([]string{"account\x00" + c.account}, c.modelFlags...)
	slices.Sort(flags)
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
	cli, err := clientv3.New(clientv3.Config{Endpoints: o.Endpoints, DialTimeout: o.DialTimeout, TLS: o.TLS,
		Username: o.Username, Password: o.Password, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	key, fp := o.Prefix+modelFlagsKey, c.modelFingerprint()
	resp, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, fp)).Else(clientv3.OpGet(key)).Commit()
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	if resp.Succeeded {
		return nil
	}
	if kvs := resp.Responses[0].GetResponseRange().GetKvs(); len(kvs) > 0 && string(kvs[0].Value) != fp {
		return fmt.Errorf("this node's --account and its IAM, Organizations and VPC endpoint flags (--identity-policy, --principal, --scp, --vpc-endpoint, …, with their files) differ from those of the cluster's first node: "+
			"give every node the same (to change them for the whole cluster, stop every node and delete the etcd key %q)", key)
	}
	return nil
}
