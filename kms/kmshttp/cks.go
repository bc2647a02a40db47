package kmshttp

import (
	"context"

	"github.com/kmsmodel/kmsmodel/kms"
)

// The custom key store operations. KeyStorePassword and the XKS proxy's
// RawSecretAccessKey are read into kms.Sensitive values and go no further
// than the service's checks of their form: no response, log line or
// error carries them.

// credentialF reads XksProxyAuthenticationCredential, a structure of two
// strings, as a string map.
func credential(m map[string]string) *kms.XksProxyAuthenticationCredential {
	if m == nil {
		return nil
	}
	c := &kms.XksProxyAuthenticationCredential{AccessKeyId: m["AccessKeyId"]}
	if s, ok := m["RawSecretAccessKey"]; ok {
		c.RawSecretAccessKey = kms.Sensitive(s)
	}
	clear(m)
	return c
}

func sensitive(s string, present bool) kms.Sensitive {
	if !present {
		return nil
	}
	return kms.Sensitive(s)
}

func createCustomKeyStore(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.CreateCustomKeyStoreInput
	var password string
	var cred map[string]string
	f := []field{
		strF("CustomKeyStoreName", &in.CustomKeyStoreName),
		strF("CustomKeyStoreType", &in.CustomKeyStoreType),
		strF("CloudHsmClusterId", &in.CloudHsmClusterId),
		strF("TrustAnchorCertificate", &in.TrustAnchorCertificate),
		strF("KeyStorePassword", &password),
		strF("XksProxyUriEndpoint", &in.XksProxyUriEndpoint),
		strF("XksProxyUriPath", &in.XksProxyUriPath),
		strF("XksProxyConnectivity", &in.XksProxyConnectivity),
		strF("XksProxyVpcEndpointServiceName", &in.XksProxyVpcEndpointServiceName),
		strF("XksProxyVpcEndpointServiceOwner", &in.XksProxyVpcEndpointServiceOwner),
		mapF("XksProxyAuthenticationCredential", "xksProxyAuthenticationCredential", &cred),
	}
	if err := decodeRequired(body, f, "customKeyStoreName"); err != nil {
		return out, err
	}
	in.KeyStorePassword = sensitive(password, f[4].present)
	in.XksProxyAuthenticationCredential = credential(cred)
	res, err := svc.CreateCustomKeyStore(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.optStr("CustomKeyStoreId", res.CustomKeyStoreId)
	w.close()
	return w.b, nil
}

// storeOnly decodes a request whose only member is CustomKeyStoreId
// (required).
func storeOnly(body []byte) (*kms.CustomKeyStoreIdInput, error) {
	var in kms.CustomKeyStoreIdInput
	f := []field{strF("CustomKeyStoreId", &in.CustomKeyStoreId)}
	if err := decodeFields(body, f); err != nil {
		return nil, err
	}
	return &in, require(f, "customKeyStoreId")
}

func connectCustomKeyStore(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := storeOnly(body)
	if err == nil {
		_, err = svc.ConnectCustomKeyStore(ctx, in)
	}
	return emptyObject(out, err)
}

func disconnectCustomKeyStore(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := storeOnly(body)
	if err == nil {
		_, err = svc.DisconnectCustomKeyStore(ctx, in)
	}
	return emptyObject(out, err)
}

func deleteCustomKeyStore(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	in, err := storeOnly(body)
	if err == nil {
		_, err = svc.DeleteCustomKeyStore(ctx, in)
	}
	return emptyObject(out, err)
}

// emptyObject answers {} when err is nil.
func emptyObject(out []byte, err error) ([]byte, error) {
	if err != nil {
		return out, err
	}
	return append(out, '{', '}'), nil
}

func updateCustomKeyStore(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.UpdateCustomKeyStoreInput
	var password string
	var cred map[string]string
	f := []field{
		strF("CustomKeyStoreId", &in.CustomKeyStoreId),
		strF("NewCustomKeyStoreName", &in.NewCustomKeyStoreName),
		strF("KeyStorePassword", &password),
		strF("CloudHsmClusterId", &in.CloudHsmClusterId),
		strF("XksProxyUriEndpoint", &in.XksProxyUriEndpoint),
		strF("XksProxyUriPath", &in.XksProxyUriPath),
		strF("XksProxyConnectivity", &in.XksProxyConnectivity),
		strF("XksProxyVpcEndpointServiceName", &in.XksProxyVpcEndpointServiceName),
		mapF("XksProxyAuthenticationCredential", "xksProxyAuthenticationCredential", &cred),
	}
	if err := decodeRequired(body, f, "customKeyStoreId"); err != nil {
		return out, err
	}
	in.KeyStorePassword = sensitive(password, f[2].present)
	in.XksProxyAuthenticationCredential = credential(cred)
	_, err := svc.UpdateCustomKeyStore(ctx, &in)
	return emptyObject(out, err)
}

func describeCustomKeyStores(ctx context.Context, svc *kms.Service, body, out []byte) ([]byte, error) {
	var in kms.DescribeCustomKeyStoresInput
	f := []field{strF("CustomKeyStoreId", &in.CustomKeyStoreId), strF("CustomKeyStoreName", &in.CustomKeyStoreName),
		i32F("Limit", &in.Limit), strF("Marker", &in.Marker)}
	if err := decodeFields(body, f); err != nil {
		return out, err
	}
	res, err := svc.DescribeCustomKeyStores(ctx, &in)
	if err != nil {
		return out, err
	}
	w := writer{b: out}
	w.open()
	w.list("CustomKeyStores")
	for i := range res.CustomKeyStores {
		c := &res.CustomKeyStores[i]
		w.open()
		w.optStr("CloudHsmClusterId", c.CloudHsmClusterId)
		w.optStr("ConnectionErrorCode", c.ConnectionErrorCode)
		w.optStr("ConnectionState", c.ConnectionState)
		w.time("CreationDate", c.CreationDate)
		w.optStr("CustomKeyStoreId", c.CustomKeyStoreId)
		w.optStr("CustomKeyStoreName", c.CustomKeyStoreName)
		w.optStr("CustomKeyStoreType", c.CustomKeyStoreType)
		w.optStr("TrustAnchorCertificate", c.TrustAnchorCertificate)
		if x := c.XksProxyConfiguration; x != nil {
			w.object("XksProxyConfiguration")
			w.optStr("AccessKeyId", x.AccessKeyId)
			w.optStr("Connectivity", x.Connectivity)
			w.optStr("UriEndpoint", x.UriEndpoint)
			w.optStr("UriPath", x.UriPath)
			w.optStr("VpcEndpointServiceName", x.VpcEndpointServiceName)
			w.optStr("VpcEndpointServiceOwner", x.VpcEndpointServiceOwner)
			w.close()
		}
		w.close()
	}
	w.endList()
	w.optStr("NextMarker", res.NextMarker)
	w.boolean("Truncated", res.Truncated)
	w.close()
	return w.b, nil
}
