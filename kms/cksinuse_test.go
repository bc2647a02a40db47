package kms_test

import (
	"context"
	"testing"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms"
)

// D57: the uniqueness rules of the API reference for custom key stores,
// within an account and Region: a CloudHSM cluster serves one CloudHSM key
// store; an external key store's proxy URI (endpoint and path) is its own;
// with VPC_ENDPOINT_SERVICE connectivity so are its endpoint (the private
// DNS name) and its VPC endpoint service. Another account or Region is
// free to reuse them; nothing is created by a refused call.
func TestCKSSettingsInUse(t *testing.T) {
	e := fxNew(t)
	ctx := e.ctx
	create := func(ctx context.Context, in *kms.CreateCustomKeyStoreInput) error {
		_, err := e.s.CreateCustomKeyStore(ctx, in)
		return err
	}
	named := func(in *kms.CreateCustomKeyStoreInput, name string) *kms.CreateCustomKeyStoreInput {
		c := *in
		c.CustomKeyStoreName = name
		return &c
	}
	hsm := ckHSMInput("hsm")
	first := ckStore(t, e.s, hsm)
	ckErr(t, create(ctx, named(hsm, "hsm2")), keystate.ErrCloudHsmClusterInUse,
		"The CloudHSM cluster 'cluster-1a23b4cdefg' is already associated with custom key store '"+first+"'.")
	if err := create(kms.WithCaller(ctx, "444455556666"), named(hsm, "hsm2")); err != nil {
		t.Fatalf("the same cluster in another account: %v", err)
	}
	if err := create(kms.WithCallerRegion(ctx, mrWest), named(hsm, "hsm2")); err != nil {
		t.Fatalf("the same cluster in another Region: %v", err)
	}
	other := named(hsm, "hsm3")
	other.CloudHsmClusterId = "cluster-9z98y7xwvut"
	third := ckStore(t, e.s, other)
	_, err := e.s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: third, CloudHsmClusterId: hsm.CloudHsmClusterId})
	ckErr(t, err, keystate.ErrCloudHsmClusterInUse, "")
	if _, err := e.s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: third, NewCustomKeyStoreName: "renamed"}); err != nil {
		t.Fatalf("a change of name only: %v", err)
	}

	xks := ckXKSInput("xks1")
	xksID := ckStore(t, e.s, xks)
	ckErr(t, create(ctx, named(xks, "xks2")), keystate.ErrXksProxyUriInUse,
		"The proxy URI https://xks.example.com/example/kms/xks/v1 is already associated with external key store '"+xksID+"'.")
	samehost := named(xks, "xks2")
	samehost.XksProxyUriPath = "/other/kms/xks/v1"
	if err := create(ctx, samehost); err != nil {
		t.Fatalf("the same public endpoint with another path: %v", err)
	}
	vpc := func(name, endpoint, service string) *kms.CreateCustomKeyStoreInput {
		c := named(xks, name)
		c.XksProxyConnectivity, c.XksProxyUriEndpoint, c.XksProxyVpcEndpointServiceName = "VPC_ENDPOINT_SERVICE", endpoint,
			service
		c.XksProxyUriPath = "/" + name + "/kms/xks/v1"
		return c
	}
	vpcID := ckStore(t, e.s, vpc("vpc1", "https://xks1.example.com", "com.amazonaws.vpce.us-east-1.vpce-svc-1"))
	ckErr(t, create(ctx, vpc("vpc2", "https://xks1.example.com", "com.amazonaws.vpce.us-east-1.vpce-svc-2")),
		keystate.ErrXksProxyUriEndpointInUse,
		"The proxy URI endpoint https://xks1.example.com is already the private DNS name of external key store '"+vpcID+"'.")
	ckErr(t, create(ctx, vpc("vpc2", "https://xks2.example.com", "com.amazonaws.vpce.us-east-1.vpce-svc-1")),
		keystate.ErrXksProxyVpcEndpointServiceInUse,
		"The VPC endpoint service com.amazonaws.vpce.us-east-1.vpce-svc-1 is already associated with external key store '"+vpcID+"'.")
	vpc2 := ckStore(t, e.s, vpc("vpc2", "https://xks2.example.com", "com.amazonaws.vpce.us-east-1.vpce-svc-2"))
	_, err = e.s.UpdateCustomKeyStore(ctx, &kms.UpdateCustomKeyStoreInput{CustomKeyStoreId: vpc2,
		XksProxyVpcEndpointServiceName: "com.amazonaws.vpce.us-east-1.vpce-svc-1"})
	ckErr(t, err, keystate.ErrXksProxyVpcEndpointServiceInUse, "")

	// The refused calls created nothing.
	out, err := e.s.DescribeCustomKeyStores(ctx, &kms.DescribeCustomKeyStoresInput{})
	if err != nil || len(out.CustomKeyStores) != 6 {
		t.Fatalf("DescribeCustomKeyStores: %d stores, %v; want 6", len(out.CustomKeyStores), err)
	}
}
