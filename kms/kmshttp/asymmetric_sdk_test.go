package kmshttp_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// asymKeys holds the keys of one asymmetric test: each spec and usage the
// operations need, and keys in the states they refuse.
type asymKeys struct {
	c   *awskms.Client
	ctx context.Context
}

// create makes a key of spec and usage (and origin, if given) and returns
// its ID and ARN.
func (k asymKeys) create(t *testing.T, spec types.KeySpec, usage types.KeyUsageType, origin ...types.OriginType) (string, string) {
	t.Helper()
	in := &awskms.CreateKeyInput{KeySpec: spec, KeyUsage: usage}
	if len(origin) > 0 {
		in.Origin = origin[0]
	}
	out, err := k.c.CreateKey(k.ctx, in)
	if err != nil {
		t.Fatalf("CreateKey %s %s: %v", spec, usage, err)
	}
	return aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
}

// disabled makes a key of spec and usage, and disables it.
func (k asymKeys) disabled(t *testing.T, spec types.KeySpec, usage types.KeyUsageType) string {
	t.Helper()
	id, _ := k.create(t, spec, usage)
	if _, err := k.c.DisableKey(k.ctx, &awskms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	return id
}

// pendingDeletion makes a key of spec and usage, and schedules its
// deletion.
func (k asymKeys) pendingDeletion(t *testing.T, spec types.KeySpec, usage types.KeyUsageType) string {
	t.Helper()
	id, _ := k.create(t, spec, usage)
	if _, err := k.c.ScheduleKeyDeletion(k.ctx, &awskms.ScheduleKeyDeletionInput{KeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	return id
}

// unknownKey is a well-formed key ID no key has.
const unknownKey = "00000000-0000-4000-8000-000000000000"

// TestSDKSignVerify: Sign and Verify with the real AWS SDK; the signature
// checked by crypto/ecdsa against GetPublicKey's key; every exception
// decoded to its SDK type.
func TestSDKSignVerify(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newFixture(t)
			hc, endpoint := tr.client(t, f)
			c := sdkClient(hc, endpoint, accessKey, region)
			ctx := context.Background()
			k := asymKeys{c, ctx}
			id, arn := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
			msg := []byte("pay 10 to alice")

			s, err := c.Sign(ctx, &awskms.SignInput{KeyId: aws.String(id), Message: msg,
				SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256, MessageType: types.MessageTypeRaw,
				GrantTokens: []string{grantToken(t, c, id, "Sign")}})
			if err != nil || aws.ToString(s.KeyId) != arn || s.SigningAlgorithm != types.SigningAlgorithmSpecEcdsaSha256 || len(s.Signature) == 0 {
				t.Fatalf("Sign = %+v, %v", s, err)
			}
			pk, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			digest := sha256.Sum256(msg)
			if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), digest[:], s.Signature) {
				t.Fatal("crypto/ecdsa does not verify the signature Sign returned")
			}

			// Verify: RAW, and DIGEST of the same message.
			v, err := c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(id), Message: msg, Signature: s.Signature,
				SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil || !v.SignatureValid || aws.ToString(v.KeyId) != arn || v.SigningAlgorithm != types.SigningAlgorithmSpecEcdsaSha256 {
				t.Fatalf("Verify = %+v, %v", v, err)
			}
			if _, err := c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(arn), Message: digest[:], MessageType: types.MessageTypeDigest,
				Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
				t.Fatalf("Verify DIGEST: %v", err)
			}

			// A signature of another message: KMSInvalidSignatureException
			// with an empty message (spec §2.4).
			_, err = c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(id), Message: []byte("pay 1000 to mallory"),
				Signature: s.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if _, m := as[*types.KMSInvalidSignatureException]()(t, err); m != "" {
				t.Errorf("KMSInvalidSignatureException message %q, want empty", m)
			}
			_, err = c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(id), Message: msg,
				Signature: []byte("not DER"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			as[*types.KMSInvalidSignatureException]()(t, err)

			// The exceptions both operations share.
			sym, symArn := k.create(t, "", "")
			hmac, _ := k.create(t, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
			p521, _ := k.create(t, types.KeySpecEccNistP521, types.KeyUsageTypeSignVerify)
			ext, _ := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify, types.OriginTypeExternal)
			dis := k.disabled(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
			pd := k.pendingDeletion(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
			for _, tc := range []struct {
				name  string
				key   string
				alg   types.SigningAlgorithmSpec
				typ   types.MessageType
				msg   []byte
				dry   bool
				check func(*testing.T, error) (string, string)
				want  string // message, when checked
			}{
				{"unknown key", unknownKey, "", "", nil, false, as[*types.NotFoundException](), ""},
				{"symmetric key", sym, "", "", nil, false, as[*types.InvalidKeyUsageException](),
					symArn + " key usage is ENCRYPT_DECRYPT which is not valid for %s."},
				{"HMAC key", hmac, "", "", nil, false, as[*types.InvalidKeyUsageException](), ""},
				{"algorithm of another spec", p521, "", "", nil, false, as[*types.InvalidKeyUsageException](),
					"Algorithm ECDSA_SHA_256 is incompatible with key spec ECC_NIST_P521."},
				{"disabled", dis, "", "", nil, false, as[*types.DisabledException](), ""},
				{"pending deletion (D17)", pd, "", "", nil, false, as[*types.KMSInvalidStateException](), ""},
				{"pending import", ext, "", "", nil, false, as[*types.KMSInvalidStateException](), ""},
				{"digest of the wrong length", id, "", types.MessageTypeDigest, []byte("short"), false, generic("ValidationException"),
					"Digest is invalid length for algorithm ECDSA_SHA_256."},
				{"unknown algorithm", id, "NOPE", "", nil, false, generic("ValidationException"), ""},
				{"message over 4096 bytes", id, "", "", make([]byte, 4097), false, generic("ValidationException"), ""},
				{"DryRun (D27)", id, "", "", nil, true, as[*types.DryRunOperationException](), "The request would have succeeded, but the DryRun option is set."},
			} {
				t.Run(tc.name, func(t *testing.T) {
					alg, m := tc.alg, tc.msg
					if alg == "" {
						alg = types.SigningAlgorithmSpecEcdsaSha256
					}
					if m == nil {
						m = msg
					}
					_, err := c.Sign(ctx, &awskms.SignInput{KeyId: aws.String(tc.key), Message: m, MessageType: tc.typ,
						SigningAlgorithm: alg, DryRun: aws.Bool(tc.dry)})
					if _, got := tc.check(t, err); tc.want != "" && got != sprintf(tc.want, "Sign") {
						t.Errorf("Sign: message %q, want %q", got, sprintf(tc.want, "Sign"))
					}
					_, err = c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(tc.key), Message: m, MessageType: tc.typ,
						Signature: s.Signature, SigningAlgorithm: alg, DryRun: aws.Bool(tc.dry)})
					if _, got := tc.check(t, err); tc.want != "" && tc.typ == "" && got != sprintf(tc.want, "Verify") {
						t.Errorf("Verify: message %q, want %q", got, sprintf(tc.want, "Verify"))
					}
				})
			}
		})
	}
}

// sprintf substitutes op for the one %s in format, if any.
func sprintf(format, op string) string {
	return string(bytes.Replace([]byte(format), []byte("%s"), []byte(op), 1))
}

// TestSDKGetPublicKey: the members of each usage (only its algorithm
// list), Disabled keys answer, and the refusals.
func TestSDKGetPublicKey(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	sig, sigArn := k.create(t, types.KeySpecEccNistP384, types.KeyUsageTypeSignVerify)
	agree, _ := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)

	pk, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(sig),
		GrantTokens: []string{grantToken(t, c, sig, "GetPublicKey")}})
	if err != nil || aws.ToString(pk.KeyId) != sigArn || pk.KeySpec != types.KeySpecEccNistP384 ||
		pk.KeyUsage != types.KeyUsageTypeSignVerify ||
		len(pk.SigningAlgorithms) != 1 || pk.SigningAlgorithms[0] != types.SigningAlgorithmSpecEcdsaSha384 ||
		pk.EncryptionAlgorithms != nil || pk.KeyAgreementAlgorithms != nil || pk.EncapsulationAlgorithms != nil {
		t.Fatalf("GetPublicKey SIGN_VERIFY = %+v, %v", pk, err)
	}
	if _, err := x509.ParsePKIXPublicKey(pk.PublicKey); err != nil {
		t.Fatalf("PublicKey is not a SubjectPublicKeyInfo: %v", err)
	}
	pk, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(agree)})
	if err != nil || pk.KeyUsage != types.KeyUsageTypeKeyAgreement || len(pk.KeyAgreementAlgorithms) != 1 ||
		pk.SigningAlgorithms != nil || pk.EncryptionAlgorithms != nil {
		t.Fatalf("GetPublicKey KEY_AGREEMENT = %+v, %v", pk, err)
	}
	// The raw body carries only the one list, and the deprecated
	// CustomerMasterKeySpec equal to KeySpec.
	_, _, body := post(t, f.handler, target+"GetPublicKey", `{"KeyId":"`+agree+`"}`)
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["CustomerMasterKeySpec"] != "ECC_NIST_P256" || raw["KeySpec"] != "ECC_NIST_P256" {
		t.Errorf("GetPublicKey key specs: %s", body)
	}
	for _, m := range []string{"SigningAlgorithms", "EncryptionAlgorithms", "EncapsulationAlgorithms", "MacAlgorithms"} {
		if _, ok := raw[m]; ok {
			t.Errorf("GetPublicKey of a KEY_AGREEMENT key sends %s: %s", m, body)
		}
	}

	// Disabled: still answers (spec §11).
	dis := k.disabled(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	if _, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(dis)}); err != nil {
		t.Errorf("GetPublicKey of a disabled key: %v", err)
	}
	sym, _ := k.create(t, "", "")
	hmac, _ := k.create(t, types.KeySpecHmac384, types.KeyUsageTypeGenerateVerifyMac)
	ext, _ := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify, types.OriginTypeExternal)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(sym)})
	as[*types.UnsupportedOperationException]()(t, err)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(hmac)})
	as[*types.UnsupportedOperationException]()(t, err)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(unknownKey)})
	as[*types.NotFoundException]()(t, err)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(k.pendingDeletion(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify))})
	as[*types.KMSInvalidStateException]()(t, err)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(ext)})
	as[*types.KMSInvalidStateException]()(t, err)
	_, err = c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:nope")})
	as[*types.InvalidArnException]()(t, err)
}

// inProcess is an SDK client of f, in process, signing with akid.
func inProcess(f *fixture, akid string) *awskms.Client {
	return sdkClient(&http.Client{Transport: kmshttp.Transport{Handler: f}}, "http://kms.test", akid, region)
}

// TestSDKMac: GenerateMac is deterministic and VerifyMac accepts its
// MAC; a wrong MAC is KMSInvalidMacException
// with an empty message; the refusals.
func TestSDKMac(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	id, arn := k.create(t, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	msg := []byte("token:42")
	g, err := c.GenerateMac(ctx, &awskms.GenerateMacInput{KeyId: aws.String(id), Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256,
		GrantTokens: []string{grantToken(t, c, id, "GenerateMac")}})
	if err != nil || aws.ToString(g.KeyId) != arn || len(g.Mac) != 32 || g.MacAlgorithm != types.MacAlgorithmSpecHmacSha256 {
		t.Fatalf("GenerateMac = %+v, %v", g, err)
	}
	g2, err := c.GenerateMac(ctx, &awskms.GenerateMacInput{KeyId: aws.String(arn), Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil || !bytes.Equal(g2.Mac, g.Mac) {
		t.Fatalf("GenerateMac is not deterministic: %x, %x, %v", g.Mac, g2.Mac, err)
	}
	v, err := c.VerifyMac(ctx, &awskms.VerifyMacInput{KeyId: aws.String(id), Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256, Mac: g.Mac})
	if err != nil || !v.MacValid || aws.ToString(v.KeyId) != arn || v.MacAlgorithm != types.MacAlgorithmSpecHmacSha256 {
		t.Fatalf("VerifyMac = %+v, %v", v, err)
	}
	bad := bytes.Clone(g.Mac)
	bad[0] ^= 1
	_, err = c.VerifyMac(ctx, &awskms.VerifyMacInput{KeyId: aws.String(id), Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256, Mac: bad})
	if _, m := as[*types.KMSInvalidMacException]()(t, err); m != "" {
		t.Errorf("KMSInvalidMacException message %q, want empty", m)
	}

	sym, symArn := k.create(t, "", "")
	dis := k.disabled(t, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	pd := k.pendingDeletion(t, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	for _, tc := range []struct {
		name  string
		key   string
		alg   types.MacAlgorithmSpec
		dry   bool
		check func(*testing.T, error) (string, string)
		want  string
	}{
		{"unknown key", unknownKey, "", false, as[*types.NotFoundException](), ""},
		{"symmetric key", sym, "", false, as[*types.InvalidKeyUsageException](), symArn + " key usage is ENCRYPT_DECRYPT which is not valid for %s."},
		{"algorithm of another spec", id, types.MacAlgorithmSpecHmacSha512, false, as[*types.InvalidKeyUsageException](),
			"Algorithm HMAC_SHA_512 is incompatible with key spec HMAC_256."},
		// The class only: package kms lists the enum as Go prints a
		// slice ("[A B]"), AWS as "[A, B]" (spec §7).
		{"unknown algorithm", id, "INVALID", false, generic("ValidationException"), ""},
		{"disabled", dis, "", false, as[*types.DisabledException](), ""},
		{"pending deletion (D17)", pd, "", false, as[*types.KMSInvalidStateException](), ""},
		{"DryRun (D27)", id, "", true, as[*types.DryRunOperationException](), "The request would have succeeded, but the DryRun option is set."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			alg := tc.alg
			if alg == "" {
				alg = types.MacAlgorithmSpecHmacSha256
			}
			_, err := c.GenerateMac(ctx, &awskms.GenerateMacInput{KeyId: aws.String(tc.key), Message: msg, MacAlgorithm: alg, DryRun: aws.Bool(tc.dry)})
			if _, got := tc.check(t, err); tc.want != "" && got != sprintf(tc.want, "GenerateMac") {
				t.Errorf("GenerateMac: message %q, want %q", got, sprintf(tc.want, "GenerateMac"))
			}
			_, err = c.VerifyMac(ctx, &awskms.VerifyMacInput{KeyId: aws.String(tc.key), Message: msg, MacAlgorithm: alg, Mac: g.Mac, DryRun: aws.Bool(tc.dry)})
			if _, got := tc.check(t, err); tc.want != "" && got != sprintf(tc.want, "VerifyMac") {
				t.Errorf("VerifyMac: message %q, want %q", got, sprintf(tc.want, "VerifyMac"))
			}
		})
	}
	// Message missing: the SDK validates it before sending; over the
	// wire the handler answers AWS's null-member ValidationException.
	status, h, body := post(t, f.handler, target+"VerifyMac", `{"KeyId":"`+id+`","MacAlgorithm":"HMAC_SHA_256","Message":"eA=="}`)
	if status != 400 || h.Get("X-Amzn-ErrorType") != "ValidationException" || !bytes.Contains(body, []byte("'mac'")) {
		t.Errorf("VerifyMac without Mac: %d %s", status, body)
	}
}

// TestSDKDeriveSharedSecret: the secret equals what crypto/ecdh computes
// from a local key and GetPublicKey's; the refusals.
func TestSDKDeriveSharedSecret(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	id, arn := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)
	local, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	localSPKI, err := x509.MarshalPKIXPublicKey(local.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DeriveSharedSecret(ctx, &awskms.DeriveSharedSecretInput{KeyId: aws.String(id),
		KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: localSPKI,
		GrantTokens: []string{grantToken(t, c, id, "DeriveSharedSecret")}})
	if err != nil || aws.ToString(d.KeyId) != arn || d.KeyAgreementAlgorithm != types.KeyAgreementAlgorithmSpecEcdh ||
		d.KeyOrigin != types.OriginTypeAwsKms || len(d.SharedSecret) != 32 || d.CiphertextForRecipient != nil {
		t.Fatalf("DeriveSharedSecret = %+v, %v", d, err)
	}
	pk, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	remote, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	rpub, err := remote.(*ecdsa.PublicKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	want, err := local.ECDH(rpub)
	if err != nil || !bytes.Equal(want, d.SharedSecret) {
		t.Fatalf("shared secret %x, crypto/ecdh %x (%v)", d.SharedSecret, want, err)
	}

	sign, signArn := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	p384, err := ecdh.P384().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherCurve, _ := x509.MarshalPKIXPublicKey(p384.PublicKey())
	dis := k.disabled(t, types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)
	pd := k.pendingDeletion(t, types.KeySpecEccNistP256, types.KeyUsageTypeKeyAgreement)
	for _, tc := range []struct {
		name  string
		in    awskms.DeriveSharedSecretInput
		check func(*testing.T, error) (string, string)
		want  string
	}{
		{"unknown key", awskms.DeriveSharedSecretInput{KeyId: aws.String(unknownKey)}, as[*types.NotFoundException](), ""},
		{"SIGN_VERIFY key", awskms.DeriveSharedSecretInput{KeyId: aws.String(sign)}, as[*types.InvalidKeyUsageException](),
			signArn + " key usage is SIGN_VERIFY which is not valid for DeriveSharedSecret."},
		{"disabled", awskms.DeriveSharedSecretInput{KeyId: aws.String(dis)}, as[*types.DisabledException](), ""},
		{"pending deletion (D17)", awskms.DeriveSharedSecretInput{KeyId: aws.String(pd)}, as[*types.KMSInvalidStateException](), ""},
		{"not a public key", awskms.DeriveSharedSecretInput{KeyId: aws.String(id), PublicKey: []byte("InvalidPublicKey")},
			generic("ValidationException"), ""},
		{"another curve", awskms.DeriveSharedSecretInput{KeyId: aws.String(id), PublicKey: otherCurve}, generic("ValidationException"), ""},
		{"unknown algorithm", awskms.DeriveSharedSecretInput{KeyId: aws.String(id), KeyAgreementAlgorithm: "INVALID"}, generic("ValidationException"),
			"1 validation error detected: Value 'INVALID' at 'keyAgreementAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [ECDH]"},
		{"DryRun (D27)", awskms.DeriveSharedSecretInput{KeyId: aws.String(id), DryRun: aws.Bool(true)},
			as[*types.DryRunOperationException](), "The request would have succeeded, but the DryRun option is set."},
		{"Recipient with a malformed document (D80)", awskms.DeriveSharedSecretInput{KeyId: aws.String(id),
			Recipient: &types.RecipientInfo{AttestationDocument: []byte("doc"), KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}},
			generic("ValidationException"), "The attestation document in the Recipient parameter is not valid: it is malformed."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.KeyAgreementAlgorithm == "" {
				in.KeyAgreementAlgorithm = types.KeyAgreementAlgorithmSpecEcdh
			}
			if in.PublicKey == nil {
				in.PublicKey = localSPKI
			}
			_, err := c.DeriveSharedSecret(ctx, &in)
			if _, got := tc.check(t, err); tc.want != "" && got != tc.want {
				t.Errorf("message %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSDKGenerateDataKeyPair: both operations' members; the private key
// decrypts back to PrivateKeyPlaintext and matches PublicKey; the
// refusals.
func TestSDKGenerateDataKeyPair(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	id, arn := k.create(t, "", "")
	ec := map[string]string{"purpose": "tls"}
	p, err := c.GenerateDataKeyPair(ctx, &awskms.GenerateDataKeyPairInput{KeyId: aws.String(id), KeyPairSpec: types.DataKeyPairSpecEccNistP256,
		EncryptionContext: ec, GrantTokens: []string{grantToken(t, c, id, "GenerateDataKeyPair")}})
	if err != nil || aws.ToString(p.KeyId) != arn || p.KeyPairSpec != types.DataKeyPairSpecEccNistP256 ||
		len(aws.ToString(p.KeyMaterialId)) != 64 || p.CiphertextForRecipient != nil {
		t.Fatalf("GenerateDataKeyPair = %+v, %v", p, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(p.PrivateKeyPlaintext)
	if err != nil {
		t.Fatalf("PrivateKeyPlaintext is not PKCS#8: %v", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(priv.(*ecdsa.PrivateKey).Public())
	if err != nil || !bytes.Equal(spki, p.PublicKey) {
		t.Fatalf("PublicKey is not the private key's: %v", err)
	}
	dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: p.PrivateKeyCiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, p.PrivateKeyPlaintext) || aws.ToString(dec.KeyId) != arn {
		t.Fatalf("Decrypt of PrivateKeyCiphertextBlob = %v", err)
	}
	_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: p.PrivateKeyCiphertextBlob})
	if _, m := as[*types.InvalidCiphertextException]()(t, err); m != "" {
		t.Errorf("InvalidCiphertextException message %q, want empty", m)
	}

	w, err := c.GenerateDataKeyPairWithoutPlaintext(ctx, &awskms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: aws.String(id),
		KeyPairSpec: types.DataKeyPairSpecEccNistEdwards25519})
	if err != nil || aws.ToString(w.KeyId) != arn || w.KeyPairSpec != types.DataKeyPairSpecEccNistEdwards25519 ||
		len(w.PublicKey) == 0 || len(w.PrivateKeyCiphertextBlob) == 0 || len(aws.ToString(w.KeyMaterialId)) != 64 {
		t.Fatalf("GenerateDataKeyPairWithoutPlaintext = %+v, %v", w, err)
	}
	_, _, body := post(t, f.handler, target+"GenerateDataKeyPairWithoutPlaintext", `{"KeyId":"`+id+`","KeyPairSpec":"ECC_NIST_P256"}`)
	if bytes.Contains(body, []byte("PrivateKeyPlaintext")) {
		t.Errorf("GenerateDataKeyPairWithoutPlaintext sends PrivateKeyPlaintext: %s", body)
	}
	dec, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: w.PrivateKeyCiphertextBlob})
	if err != nil {
		t.Fatalf("Decrypt of the WithoutPlaintext private key: %v", err)
	}
	if _, err := x509.ParsePKCS8PrivateKey(dec.Plaintext); err != nil {
		t.Errorf("decrypted private key is not PKCS#8: %v", err)
	}

	sign, _ := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	dis := k.disabled(t, "", "")
	pd := k.pendingDeletion(t, "", "")
	for _, tc := range []struct {
		name      string
		key       string
		spec      types.DataKeyPairSpec
		dry       bool
		recipient bool
		check     func(*testing.T, error) (string, string)
	}{
		{"unknown key", unknownKey, "", false, false, as[*types.NotFoundException]()},
		{"asymmetric KeyId", sign, "", false, false, as[*types.InvalidKeyUsageException]()},
		{"disabled", dis, "", false, false, as[*types.DisabledException]()},
		{"pending deletion (D17)", pd, "", false, false, as[*types.KMSInvalidStateException]()},
		{"unknown spec", id, "RSA_1024", false, false, generic("ValidationException")},
		{"SM2 outside China", id, types.DataKeyPairSpecSm2, false, false, as[*types.UnsupportedOperationException]()},
		{"DryRun (D27)", id, "", true, false, as[*types.DryRunOperationException]()},
		{"Recipient with a malformed document (D80)", id, "", false, true, generic("ValidationException")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := tc.spec
			if spec == "" {
				spec = types.DataKeyPairSpecEccNistP256
			}
			in := &awskms.GenerateDataKeyPairInput{KeyId: aws.String(tc.key), KeyPairSpec: spec, DryRun: aws.Bool(tc.dry)}
			if tc.recipient {
				in.Recipient = &types.RecipientInfo{AttestationDocument: []byte("doc"), KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}
			}
			_, err := c.GenerateDataKeyPair(ctx, in)
			tc.check(t, err)
			if tc.recipient {
				return // not a member of WithoutPlaintext
			}
			_, err = c.GenerateDataKeyPairWithoutPlaintext(ctx, &awskms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: aws.String(tc.key),
				KeyPairSpec: spec, DryRun: aws.Bool(tc.dry)})
			tc.check(t, err)
		})
	}
}

// TestSDKGetKeyLastUsage: {} before any use; after a Sign, the operation,
// its instant and the request ID the SDK's response carried; failures do
// not count; the refusals.
func TestSDKGetKeyLastUsage(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	id, arn := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)

	u, err := c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String(id)})
	if err != nil || aws.ToString(u.KeyId) != arn || u.KeyLastUsage == nil || *u.KeyLastUsage != (types.KeyLastUsageData{}) ||
		!aws.ToTime(u.KeyCreationDate).Equal(epoch) || !aws.ToTime(u.TrackingStartDate).Equal(epoch) {
		t.Fatalf("GetKeyLastUsage before use = %+v, %v", u, err)
	}
	_, _, body := post(t, f.handler, target+"GetKeyLastUsage", `{"KeyId":"`+id+`"}`)
	if !bytes.Contains(body, []byte(`"KeyLastUsage":{}`)) {
		t.Errorf("an unused key's KeyLastUsage is not {}: %s", body)
	}

	f.clock.Advance(time.Minute)
	s, err := c.Sign(ctx, &awskms.SignInput{KeyId: aws.String(id), Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	reqID, ok := awsmiddleware.GetRequestIDMetadata(s.ResultMetadata)
	if !ok || reqID == "" {
		t.Fatal("the SDK saw no request ID")
	}
	f.clock.Advance(time.Minute)
	// A failed Verify does not count.
	_, err = c.Verify(ctx, &awskms.VerifyInput{KeyId: aws.String(id), Message: []byte("other"), Signature: s.Signature,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	as[*types.KMSInvalidSignatureException]()(t, err)

	u, err = c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String(arn)})
	if err != nil || u.KeyLastUsage == nil {
		t.Fatalf("GetKeyLastUsage = %+v, %v", u, err)
	}
	if l := u.KeyLastUsage; l.Operation != types.KeyLastUsageTrackingOperationSign || aws.ToString(l.KmsRequestId) != reqID ||
		!aws.ToTime(l.Timestamp).Equal(epoch.Add(time.Minute)) || aws.ToString(l.CloudTrailEventId) == "" {
		t.Errorf("KeyLastUsage = %+v, want Sign at %v with request ID %s", *l, epoch.Add(time.Minute), reqID)
	}

	// Refusals: no alias, no unknown key, no other account's key.
	if _, err := c.CreateAlias(ctx, &awskms.CreateAliasInput{AliasName: aws.String("alias/signer"), TargetKeyId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String("alias/signer")})
	as[*types.NotFoundException]()(t, err)
	_, err = c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String(unknownKey)})
	as[*types.NotFoundException]()(t, err)
	other := inProcess(f, otherKey)
	_, err = other.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String(arn)})
	as[*types.NotFoundException]()(t, err)
	_, err = c.GetKeyLastUsage(ctx, &awskms.GetKeyLastUsageInput{KeyId: aws.String("arn:aws:kms:us-east-1:111122223333:nope")})
	as[*types.InvalidArnException]()(t, err)
}

// TestSDKRSAEncryption: Encrypt, Decrypt and ReEncrypt with an RSA key
// pass and return the algorithm members; ciphertext made locally with
// GetPublicKey's key decrypts; the refusals.
func TestSDKRSAEncryption(t *testing.T) {
	f := newFixture(t)
	c := inProcess(f, accessKey)
	ctx := context.Background()
	k := asymKeys{c, ctx}
	id, arn := k.create(t, types.KeySpecRsa2048, types.KeyUsageTypeEncryptDecrypt)
	pk, err := c.GetPublicKey(ctx, &awskms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil || len(pk.EncryptionAlgorithms) != 2 || pk.SigningAlgorithms != nil {
		t.Fatalf("GetPublicKey RSA = %+v, %v", pk, err)
	}
	pub, err := x509.ParsePKIXPublicKey(pk.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	secret := []byte("launch code")
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub.(*rsa.PublicKey), secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ct, KeyId: aws.String(id),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil || !bytes.Equal(dec.Plaintext, secret) || aws.ToString(dec.KeyId) != arn ||
		dec.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 {
		t.Fatalf("Decrypt of local OAEP = %+v, %v", dec, err)
	}

	enc, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: secret,
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
	if err != nil || len(enc.CiphertextBlob) != 256 || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha1 ||
		aws.ToString(enc.KeyId) != arn {
		t.Fatalf("Encrypt RSA = %+v, %v", enc, err)
	}
	sym, symArn := k.create(t, "", "")
	re, err := c.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceKeyId: aws.String(id),
		SourceEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1, DestinationKeyId: aws.String(sym)})
	if err != nil || aws.ToString(re.SourceKeyId) != arn || aws.ToString(re.KeyId) != symArn ||
		re.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha1 ||
		re.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
		t.Fatalf("ReEncrypt RSA → symmetric = %+v, %v", re, err)
	}
	back, err := c.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: re.CiphertextBlob, DestinationKeyId: aws.String(id),
		DestinationEncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil || back.DestinationEncryptionAlgorithm != types.EncryptionAlgorithmSpecRsaesOaepSha256 ||
		back.SourceEncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault || aws.ToString(back.KeyId) != arn {
		t.Fatalf("ReEncrypt symmetric → RSA = %+v, %v", back, err)
	}
	dec, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: back.CiphertextBlob, KeyId: aws.String(arn),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil || !bytes.Equal(dec.Plaintext, secret) {
		t.Fatalf("Decrypt after ReEncrypt = %v", err)
	}

	// Refusals.
	_, err = c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: secret})
	if _, m := as[*types.InvalidKeyUsageException]()(t, err); m != "Algorithm SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048." {
		t.Errorf("Encrypt RSA without algorithm: %q", m)
	}
	_, err = c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(id), Plaintext: make([]byte, 191),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if _, m := generic("ValidationException")(t, err); m != "Algorithm RSAES_OAEP_SHA_256 and key spec RSA_2048 cannot encrypt data larger than 190 bytes." {
		t.Errorf("Encrypt over the OAEP limit: %q", m)
	}
	_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ct, KeyId: aws.String(id),
		EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
	as[*types.InvalidCiphertextException]()(t, err)
	_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: ct})
	as[*types.InvalidCiphertextException]()(t, err)
	hmac, _ := k.create(t, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	symCT, err := c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(sym), Plaintext: secret})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: symCT.CiphertextBlob, KeyId: aws.String(hmac)})
	as[*types.IncorrectKeyException]()(t, err)
	sign, _ := k.create(t, types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	_, err = c.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(sign), Plaintext: secret})
	as[*types.InvalidKeyUsageException]()(t, err)
}

// TestWireEmptyMessages: KMSInvalidSignatureException and
// KMSInvalidMacException bodies carry no message member (spec §2.4, §7).
func TestWireEmptyMessages(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sk, err := f.svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY"})
	if err != nil {
		t.Fatal(err)
	}
	hk, err := f.svc.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: "HMAC_256", KeyUsage: "GENERATE_VERIFY_MAC"})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	for _, tc := range []struct{ target, body, code string }{
		{"Verify", `{"KeyId":"` + sk.KeyMetadata.KeyId + `","Message":"` + b64([]byte("m")) + `","Signature":"` + b64([]byte("sig")) +
			`","SigningAlgorithm":"ECDSA_SHA_256"}`, "KMSInvalidSignatureException"},
		{"VerifyMac", `{"KeyId":"` + hk.KeyMetadata.KeyId + `","Message":"` + b64([]byte("m")) + `","Mac":"` + b64(make([]byte, 32)) +
			`","MacAlgorithm":"HMAC_SHA_256"}`, "KMSInvalidMacException"},
	} {
		status, h, body := post(t, f.handler, target+tc.target, tc.body)
		if status != 400 || h.Get("X-Amzn-ErrorType") != tc.code || string(body) != `{"__type":"`+tc.code+`"}` {
			t.Errorf("%s: %d %q %s, want 400 %s with no message", tc.target, status, h.Get("X-Amzn-ErrorType"), body, tc.code)
		}
	}
}
