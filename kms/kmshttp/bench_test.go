package kmshttp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

func benchKeys(b *testing.B, svc *kms.Service, n int) []string {
	b.Helper()
	ids := make([]string, n)
	for i := range ids {
		out, err := svc.CreateKey(context.Background(), &kms.CreateKeyInput{})
		if err != nil {
			b.Fatal(err)
		}
		ids[i] = out.KeyMetadata.KeyId
	}
	return ids
}

// benchAuth is a SigV4 Authorization header for the benchmarks.
var benchAuth = sigV4(accessKey, region, "kms")

// serveOnce builds the request in memory, serves it and checks the status:
// the handler's whole cost, JSON decoding and encoding included.
func serveOnce(b *testing.B, h http.Handler, target string, body []byte) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Authorization", benchAuth)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
	}
}

// Target (issue 7): ≤ 10 µs/op.
func BenchmarkHandlerDescribeKey(b *testing.B) {
	f := newFixture(b)
	ids := benchKeys(b, f.svc, 1000)
	bodies := make([][]byte, len(ids))
	for i, id := range ids {
		bodies[i] = []byte(`{"KeyId":"` + id + `"}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serveOnce(b, f.handler, "TrentService.DescribeKey", bodies[i%len(bodies)])
	}
}

// Target (issue 7): ≤ 15 µs/op. Each key rotates up to its quota of 10
// (D1), so the b.N rotations are spread over b.N/10+1 keys.
func BenchmarkHandlerRotateKeyOnDemand(b *testing.B) {
	f := newFixture(b)
	ids := benchKeys(b, f.svc, b.N/10+1)
	bodies := make([][]byte, len(ids))
	for i, id := range ids {
		bodies[i] = []byte(`{"KeyId":"` + id + `"}`)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serveOnce(b, f.handler, "TrentService.RotateKeyOnDemand", bodies[i/10])
	}
}

// BenchmarkSDKInProcessDescribeKey is the AWS SDK's whole round trip
// (serialization, signing, middleware, the handler, deserialization)
// through kmshttp.Transport, without a socket.
func BenchmarkSDKInProcessDescribeKey(b *testing.B) {
	f := newFixture(b)
	ids := benchKeys(b, f.svc, 1000)
	c := sdkClient(&http.Client{Transport: kmshttp.Transport{Handler: f.handler}}, "http://kms.test", accessKey, region)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(ids[i%len(ids)])}); err != nil {
			b.Fatal(err)
		}
	}
}

// benchAsymKey creates a key of spec and usage.
func benchAsymKey(b *testing.B, f *fixture, spec, usage string) string {
	b.Helper()
	out, err := f.svc.CreateKey(context.Background(), &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
	if err != nil {
		b.Fatal(err)
	}
	return out.KeyMetadata.KeyId
}

// BenchmarkHandlerSignECCP256 is Sign (ECDSA_SHA_256 over a 64-byte RAW
// message) through the handler: decoding, the model and the signature.
func BenchmarkHandlerSignECCP256(b *testing.B) {
	f := newFixture(b)
	id := benchAsymKey(b, f, "ECC_NIST_P256", "SIGN_VERIFY")
	body := []byte(`{"KeyId":"` + id + `","Message":"` + base64.StdEncoding.EncodeToString(make([]byte, 64)) +
		`","SigningAlgorithm":"ECDSA_SHA_256","MessageType":"RAW"}`)
	serveOnce(b, f.handler, "TrentService.Sign", body) // the material, generated on first use
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serveOnce(b, f.handler, "TrentService.Sign", body)
	}
}

// BenchmarkHandlerGenerateMac is GenerateMac (HMAC_SHA_256 over 64 bytes)
// through the handler.
func BenchmarkHandlerGenerateMac(b *testing.B) {
	f := newFixture(b)
	id := benchAsymKey(b, f, "HMAC_256", "GENERATE_VERIFY_MAC")
	body := []byte(`{"KeyId":"` + id + `","Message":"` + base64.StdEncoding.EncodeToString(make([]byte, 64)) +
		`","MacAlgorithm":"HMAC_SHA_256"}`)
	serveOnce(b, f.handler, "TrentService.GenerateMac", body) // the material, generated on first use
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serveOnce(b, f.handler, "TrentService.GenerateMac", body)
	}
}
