package kmshttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awskms "github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
)

// grantToken gives the account's root a grant for ops on key (with c, a
// client of the key's account) and returns its token.
func grantToken(t *testing.T, c *awskms.Client, key string, ops ...types.GrantOperation) string {
	t.Helper()
	g, err := c.CreateGrant(context.Background(), &awskms.CreateGrantInput{KeyId: aws.String(key),
		GranteePrincipal: aws.String("arn:aws:iam::" + account + ":root"), Operations: ops})
	if err != nil {
		t.Fatalf("CreateGrant: %v", err)
	}
	return aws.ToString(g.GrantToken)
}

// dryRunMessage is the recorded DryRunOperationException message (spec §7).
const dryRunMessage = "The request would have succeeded, but the DryRun option is set."

// dryRunRefused checks that err is the typed DryRunOperationException,
// HTTP 400 (D18, D27), with the recorded message.
func dryRunRefused(t *testing.T, err error) {
	t.Helper()
	var e *types.DryRunOperationException
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not a DryRunOperationException", err, err)
	}
	if e.ErrorMessage() != dryRunMessage {
		t.Errorf("DryRunOperationException message %q, want %q", e.ErrorMessage(), dryRunMessage)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("DryRunOperationException status: %v, want 400 (D18)", err)
	}
}

// accessDenied checks that err is AccessDeniedException, HTTP 400,
// whatever its wording.
func accessDenied(t *testing.T, err error) {
	t.Helper()
	var g *smithy.GenericAPIError
	if !errors.As(err, &g) || g.Code != "AccessDeniedException" {
		t.Fatalf("error %T %v is not a GenericAPIError AccessDeniedException", err, err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadRequest {
		t.Errorf("AccessDeniedException status: %v, want 400 (D18)", err)
	}
}

// TestSDKGrants drives the grant operations, grant tokens and DryRun with
// the AWS SDK for Go, as the principals of the key-policy tests.
func TestSDKGrants(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			f := newPolicyFixture(t)
			hc, endpoint := tr.client(t, f)
			p := newPrincipals(hc, endpoint)
			ctx := context.Background()
			create := func(t *testing.T, c *awskms.Client, in *awskms.CreateGrantInput) (id, token string) {
				t.Helper()
				g, err := c.CreateGrant(ctx, in)
				if err != nil {
					t.Fatalf("CreateGrant: %v", err)
				}
				id, token = aws.ToString(g.GrantId), aws.ToString(g.GrantToken)
				if len(id) != 64 || strings.Trim(id, "0123456789abcdef") != "" || token == "" {
					t.Fatalf("CreateGrant = GrantId %q, GrantToken %q; want 64 lowercase hex digits and a token (D28)", id, token)
				}
				return id, token
			}
			encryptOps := []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt}

			// (a) A grant alone lets another account's principal use the
			// key, by its ARN (D28).
			t.Run("cross-account grant", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				_, err := encrypt(p.partner, key, nil)
				denied(t, err, partnerRole, "Encrypt", key, false)
				create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				blob, err := encrypt(p.partner, key, nil)
				must(t, "partner Encrypt with the grant", err)
				must(t, "partner Decrypt with the grant", decrypt(p.partner, blob, nil))
				must(t, "app Decrypt of the partner's ciphertext", decrypt(p.app, blob, nil))
				// Only the operations granted.
				_, err = p.partner.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32)})
				denied(t, err, partnerRole, "GenerateDataKey", key, false)
				_, err = p.partner.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key)})
				denied(t, err, partnerRole, "DescribeKey", key, false)
			})

			// (b) Encryption-context constraints.
			t.Run("constraints", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				putPolicy(t, p.app, key, policyOf(allow("app", appRole, "kms:*")))
				create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(aliceUser),
					Operations:  encryptOps,
					Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"tenant": "a"}}})
				within := map[string]string{"tenant": "a", "purpose": "backup"}
				blob, err := encrypt(p.alice, key, within)
				must(t, "alice Encrypt within the subset", err)
				must(t, "alice Decrypt within the subset", decrypt(p.alice, blob, within))
				_, err = encrypt(p.alice, key, map[string]string{"tenant": "a"})
				must(t, "alice Encrypt with the subset itself", err)
				for _, outside := range []map[string]string{nil, {"tenant": "b"}, {"Tenant": "a"}, {"tenant": "A"}} {
					_, err = encrypt(p.alice, key, outside)
					denied(t, err, aliceUser, "Encrypt", key, false)
				}
				other, err := encrypt(p.app, key, map[string]string{"tenant": "b"})
				must(t, "app Encrypt for tenant b", err)
				denied(t, decrypt(p.alice, other, map[string]string{"tenant": "b"}), aliceUser, "Decrypt", key, false)

				// EncryptionContextEquals: exactly the pairs.
				eqKey := newKey(t, p.app, nil)
				putPolicy(t, p.app, eqKey, policyOf(allow("app", appRole, "kms:*")))
				create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(eqKey), GranteePrincipal: aws.String(aliceUser),
					Operations:  encryptOps,
					Constraints: &types.GrantConstraints{EncryptionContextEquals: map[string]string{"tenant": "a"}}})
				_, err = encrypt(p.alice, eqKey, map[string]string{"tenant": "a"})
				must(t, "alice Encrypt with the equal context", err)
				_, err = encrypt(p.alice, eqKey, within)
				denied(t, err, aliceUser, "Encrypt", eqKey, false)
			})

			// (c) Grant tokens: a token of the service's passes; a garbage
			// one is InvalidGrantTokenException, and so is the token of a
			// grant that is gone.
			t.Run("grant tokens", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				id, token := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				_, err := p.partner.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret"),
					GrantTokens: []string{token}})
				must(t, "partner Encrypt with the grant token", err)
				_, err = p.partner.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret"),
					GrantTokens: []string{"AQAAAGFyYmFnZQ"}})
				var bad *types.InvalidGrantTokenException
				if !errors.As(err, &bad) {
					t.Fatalf("Encrypt with a garbage token: %T %v, want InvalidGrantTokenException", err, err)
				}
				// A token checks out wherever GrantTokens go (DescribeKey,
				// a CreateGrant of the key's account).
				_, err = p.app.DescribeKey(ctx, &awskms.DescribeKeyInput{KeyId: aws.String(key), GrantTokens: []string{"x"}})
				as[*types.InvalidGrantTokenException]()(t, err)
				_, err = p.app.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(aliceUser),
					Operations: encryptOps, GrantTokens: []string{token, "x"}})
				as[*types.InvalidGrantTokenException]()(t, err)
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				must(t, "RevokeGrant", err)
				_, err = p.app.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("secret"),
					GrantTokens: []string{token}})
				as[*types.InvalidGrantTokenException]()(t, err)

				// A Name makes CreateGrant idempotent: the same grant, a
				// new token, and both tokens name it (D28).
				in := &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps, Name: aws.String("partner-encrypt")}
				id1, tok1 := create(t, p.app, in)
				id2, tok2 := create(t, p.app, in)
				if id1 != id2 || tok1 == tok2 {
					t.Errorf("CreateGrant with the same Name: %s/%s then %s/%s; want one grant, two tokens", id1, tok1, id2, tok2)
				}
				_, err = p.partner.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), GrantTokens: []string{tok1, tok2}})
				must(t, "Encrypt with both tokens", err)
			})

			// (d) RetireGrant: by token (the key's account), by the
			// retiring principal of another account, by the grantee when
			// the grant allows RetireGrant; a stranger is refused.
			t.Run("retire", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				_, token := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				_, err := p.app.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token)})
				must(t, "RetireGrant by token", err)
				_, err = encrypt(p.partner, key, nil)
				denied(t, err, partnerRole, "Encrypt", key, false)
				_, err = p.app.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token)})
				as[*types.InvalidGrantTokenException]()(t, err)

				// The key's account by key ARN and grant ID.
				id, _ := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				_, err = p.alice.RetireGrant(ctx, &awskms.RetireGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				must(t, "RetireGrant by key ARN and grant ID", err)
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				as[*types.InvalidGrantIdException]()(t, err)
				_, err = p.alice.RetireGrant(ctx, &awskms.RetireGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				as[*types.InvalidGrantIdException]()(t, err)

				// The retiring principal, in another account, by token.
				_, token = create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(aliceUser),
					RetiringPrincipal: aws.String(partnerRole), Operations: encryptOps})
				_, err = p.partner.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token)})
				must(t, "RetireGrant by the retiring principal", err)

				// A stranger: not the key's account, not the retiring
				// principal, a grantee whose grant does not list
				// RetireGrant.
				_, token = create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				_, err = p.partner.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token)})
				accessDenied(t, err)
				_, err = encrypt(p.partner, key, nil)
				must(t, "partner Encrypt after a refused retire", err)

				// The grantee, when the grant lists RetireGrant; a dry run
				// first leaves the grant in place.
				_, token = create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationRetireGrant}})
				_, err = p.partner.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token), DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				_, err = p.partner.RetireGrant(ctx, &awskms.RetireGrantInput{GrantToken: aws.String(token)})
				must(t, "RetireGrant by the grantee", err)
			})

			// (e) RevokeGrant: the grantee is refused after it; revoking
			// again is InvalidGrantIdException; the partner may not
			// revoke (the key policy decides).
			t.Run("revoke", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				id, _ := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps})
				_, err := p.partner.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				denied(t, err, partnerRole, "RevokeGrant", key, false)
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id), DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				_, err = encrypt(p.partner, key, nil)
				must(t, "partner Encrypt after a dry-run revoke", err)
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				must(t, "RevokeGrant", err)
				_, err = encrypt(p.partner, key, nil)
				denied(t, err, partnerRole, "Encrypt", key, false)
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id)})
				if _, msg := as[*types.InvalidGrantIdException]()(t, err); msg != "Grant ID "+id+" is not valid for "+key+"." {
					t.Errorf("revoking again: message %q", msg)
				}
				_, err = p.app.RevokeGrant(ctx, &awskms.RevokeGrantInput{KeyId: aws.String(key), GrantId: aws.String(id), DryRun: aws.Bool(true)})
				as[*types.InvalidGrantIdException]()(t, err) // D27: a dry run checks that the grant exists
			})

			// (f) ListGrants and ListRetirableGrants.
			t.Run("list", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				subset := map[string]string{"tenant": "a"}
				id1, _ := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps, Name: aws.String("first"), RetiringPrincipal: aws.String(aliceUser),
					Constraints: &types.GrantConstraints{EncryptionContextSubset: subset}})
				f.clock.Advance(90 * time.Second)
				id2, _ := create(t, p.alice, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(aliceUser),
					Operations: []types.GrantOperation{types.GrantOperationDescribeKey}})
				id3, _ := create(t, p.app, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: []types.GrantOperation{types.GrantOperationDecrypt}, RetiringPrincipal: aws.String(aliceUser)})

				lg, err := p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key)})
				if err != nil || len(lg.Grants) != 3 || lg.Truncated || lg.NextMarker != nil {
					t.Fatalf("ListGrants = %+v, %v", lg, err)
				}
				g := lg.Grants[0]
				if aws.ToString(g.KeyId) != key || aws.ToString(g.GrantId) != id1 || aws.ToString(g.Name) != "first" ||
					aws.ToString(g.GranteePrincipal) != partnerRole || aws.ToString(g.RetiringPrincipal) != aliceUser ||
					aws.ToString(g.IssuingAccount) != "arn:aws:iam::"+account+":root" ||
					!slices.Equal(g.Operations, encryptOps) || g.CreationDate == nil || !g.CreationDate.Equal(epoch) ||
					g.Constraints == nil || !maps.Equal(g.Constraints.EncryptionContextSubset, subset) || g.Constraints.EncryptionContextEquals != nil {
					t.Errorf("first grant = %+v (constraints %+v)", g, g.Constraints)
				}
				g = lg.Grants[1]
				if aws.ToString(g.GrantId) != id2 || g.Name != nil || g.RetiringPrincipal != nil || g.Constraints != nil ||
					g.CreationDate == nil || !g.CreationDate.Equal(epoch.Add(90*time.Second)) {
					t.Errorf("second grant = %+v", g)
				}

				// Filters.
				lg, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole)})
				if err != nil || len(lg.Grants) != 2 || aws.ToString(lg.Grants[0].GrantId) != id1 || aws.ToString(lg.Grants[1].GrantId) != id3 {
					t.Errorf("ListGrants GranteePrincipal = %+v, %v", lg, err)
				}
				lg, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), GrantId: aws.String(id2)})
				if err != nil || len(lg.Grants) != 1 || aws.ToString(lg.Grants[0].GrantId) != id2 {
					t.Errorf("ListGrants GrantId = %+v, %v", lg, err)
				}
				_, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), GrantId: aws.String(strings.Repeat("f", 64))})
				as[*types.InvalidGrantIdException]()(t, err)

				// Paging, Limit 1.
				var ids []string
				var marker *string
				for pages := 0; ; pages++ {
					if pages == 4 {
						t.Fatal("ListGrants Limit 1 does not end")
					}
					lg, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), Limit: aws.Int32(1), Marker: marker})
					if err != nil || len(lg.Grants) != 1 {
						t.Fatalf("ListGrants Limit 1 = %+v, %v", lg, err)
					}
					ids = append(ids, aws.ToString(lg.Grants[0].GrantId))
					if !lg.Truncated {
						if lg.NextMarker != nil {
							t.Errorf("last page has NextMarker %q", aws.ToString(lg.NextMarker))
						}
						break
					}
					marker = lg.NextMarker
				}
				if !slices.Equal(ids, []string{id1, id2, id3}) {
					t.Errorf("paged grants %v, want %v", ids, []string{id1, id2, id3})
				}
				_, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), Marker: aws.String("garbage")})
				as[*types.InvalidMarkerException]()(t, err)
				_, err = p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(unknownKey)})
				as[*types.NotFoundException]()(t, err)
				// The partner may not list them (ListGrants is never a
				// grant operation).
				_, err = p.partner.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key)})
				denied(t, err, partnerRole, "ListGrants", key, false)

				// ListRetirableGrants: the grants alice may retire.
				lr, err := p.alice.ListRetirableGrants(ctx, &awskms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(aliceUser)})
				if err != nil || len(lr.Grants) != 2 || aws.ToString(lr.Grants[0].GrantId) != id1 || aws.ToString(lr.Grants[1].GrantId) != id3 ||
					aws.ToString(lr.Grants[1].KeyId) != key || lr.Truncated {
					t.Fatalf("ListRetirableGrants = %+v, %v", lr, err)
				}
				lr, err = p.alice.ListRetirableGrants(ctx, &awskms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(aliceUser), Limit: aws.Int32(1)})
				if err != nil || len(lr.Grants) != 1 || !lr.Truncated || lr.NextMarker == nil {
					t.Fatalf("ListRetirableGrants Limit 1 = %+v, %v", lr, err)
				}
				lr, err = p.alice.ListRetirableGrants(ctx, &awskms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(aliceUser), Marker: lr.NextMarker})
				if err != nil || len(lr.Grants) != 1 || aws.ToString(lr.Grants[0].GrantId) != id3 || lr.Truncated {
					t.Fatalf("ListRetirableGrants second page = %+v, %v", lr, err)
				}
				lr, err = p.alice.ListRetirableGrants(ctx, &awskms.ListRetirableGrantsInput{RetiringPrincipal: aws.String("arn:aws:iam::" + account + ":role/nobody")})
				if err != nil || len(lr.Grants) != 0 {
					t.Fatalf("ListRetirableGrants of a principal retiring nothing = %+v, %v", lr, err)
				}
			})

			// (g) DryRun: the typed exception with HTTP 400 when the call
			// would succeed, the call's own error otherwise; nothing done.
			t.Run("dry run", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				_, err := p.app.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				blob, err := encrypt(p.app, key, nil)
				must(t, "Encrypt", err)
				_, err = p.app.Decrypt(ctx, &awskms.DecryptInput{CiphertextBlob: blob, DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				_, err = p.app.GenerateDataKey(ctx, &awskms.GenerateDataKeyInput{KeyId: aws.String(key), NumberOfBytes: aws.Int32(32), DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				_, err = p.app.ReEncrypt(ctx, &awskms.ReEncryptInput{CiphertextBlob: blob, DestinationKeyId: aws.String(key), DryRun: aws.Bool(true)})
				dryRunRefused(t, err)

				_, err = p.app.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps, DryRun: aws.Bool(true)})
				dryRunRefused(t, err)
				lg, err := p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key)})
				if err != nil || len(lg.Grants) != 0 {
					t.Fatalf("ListGrants after a dry-run CreateGrant = %+v, %v", lg, err)
				}
				_, err = encrypt(p.partner, key, nil)
				denied(t, err, partnerRole, "Encrypt", key, false)

				// Not authorized: AccessDeniedException, not the dry-run
				// answer.
				_, err = p.partner.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), DryRun: aws.Bool(true)})
				denied(t, err, partnerRole, "Encrypt", key, false)
				_, err = p.partner.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: encryptOps, DryRun: aws.Bool(true)})
				denied(t, err, partnerRole, "CreateGrant", key, false)
				// Invalid: the validation error.
				_, err = p.app.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					Operations: []types.GrantOperation{types.GrantOperationSign}, DryRun: aws.Bool(true)})
				generic("ValidationException")(t, err)
				// DryRun false is an ordinary call.
				_, err = p.app.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x"), DryRun: aws.Bool(false)})
				must(t, "Encrypt DryRun false", err)
			})

			// (h) Grants to and from AWS service principals, and the
			// SourceArn constraint (D55): taken, listed, refused when
			// malformed; a SourceArn grant allows no direct call.
			t.Run("service principals", func(t *testing.T) {
				key := newKey(t, p.app, nil)
				source := "arn:aws:logs:us-east-1:111122223333:log-group:x"
				sp, err := p.app.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteeServicePrincipal: aws.String("logs.us-east-1.amazonaws.com"),
					RetiringPrincipal: aws.String(appRole), Operations: encryptOps, Constraints: &types.GrantConstraints{SourceArn: aws.String(source)}})
				must(t, "CreateGrant to a service principal", err)
				_, err = p.app.CreateGrant(ctx, &awskms.CreateGrantInput{KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
					RetiringServicePrincipal: aws.String("cloudtrail.amazonaws.com"), Operations: encryptOps,
					Constraints: &types.GrantConstraints{SourceArn: aws.String(source)}})
				must(t, "CreateGrant retired by a service principal", err)
				l, err := p.app.ListGrants(ctx, &awskms.ListGrantsInput{KeyId: aws.String(key), GranteeServicePrincipal: aws.String("logs.us-east-1.amazonaws.com")})
				must(t, "ListGrants by GranteeServicePrincipal", err)
				if len(l.Grants) != 1 || aws.ToString(l.Grants[0].GrantId) != aws.ToString(sp.GrantId) || l.Grants[0].GranteePrincipal != nil ||
					aws.ToString(l.Grants[0].GranteeServicePrincipal) != "logs.us-east-1.amazonaws.com" ||
					aws.ToString(l.Grants[0].RetiringPrincipal) != appRole || l.Grants[0].Constraints == nil ||
					aws.ToString(l.Grants[0].Constraints.SourceArn) != source {
					t.Fatalf("ListGrants = %+v", l.Grants)
				}
				r, err := p.app.ListRetirableGrants(ctx, &awskms.ListRetirableGrantsInput{RetiringServicePrincipal: aws.String("cloudtrail.amazonaws.com")})
				must(t, "ListRetirableGrants by RetiringServicePrincipal", err)
				if len(r.Grants) != 1 || aws.ToString(r.Grants[0].RetiringServicePrincipal) != "cloudtrail.amazonaws.com" ||
					aws.ToString(r.Grants[0].GranteePrincipal) != partnerRole {
					t.Fatalf("ListRetirableGrants = %+v", r.Grants)
				}
				// The partner's grant has a SourceArn: a direct call is not
				// made on behalf of that resource.
				_, err = p.partner.Encrypt(ctx, &awskms.EncryptInput{KeyId: aws.String(key), Plaintext: []byte("x")})
				denied(t, err, partnerRole, "Encrypt", key, false)
				for name, in := range map[string]*awskms.CreateGrantInput{
					"no SourceArn": {KeyId: aws.String(key), GranteeServicePrincipal: aws.String("logs.amazonaws.com"),
						RetiringPrincipal: aws.String(appRole), Operations: encryptOps},
					"no retiring principal": {KeyId: aws.String(key), GranteeServicePrincipal: aws.String("logs.amazonaws.com"),
						Operations: encryptOps, Constraints: &types.GrantConstraints{SourceArn: aws.String(source)}},
					"both grantees": {KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole),
						GranteeServicePrincipal: aws.String("logs.amazonaws.com"), Operations: encryptOps},
					"not a service principal": {KeyId: aws.String(key), GranteeServicePrincipal: aws.String(partnerRole),
						RetiringPrincipal: aws.String(appRole), Operations: encryptOps, Constraints: &types.GrantConstraints{SourceArn: aws.String(source)}},
					"not an ARN": {KeyId: aws.String(key), GranteePrincipal: aws.String(partnerRole), Operations: encryptOps,
						Constraints: &types.GrantConstraints{SourceArn: aws.String("log-group:x")}},
				} {
					_, err := p.app.CreateGrant(ctx, in)
					if err == nil {
						t.Fatalf("CreateGrant (%s) succeeded", name)
					}
					generic("ValidationException")(t, err)
				}
			})
		})
	}
}

// TestGrantWire: the raw bodies of the grant operations: CreateGrant's
// members, GrantListEntry's members (CreationDate in epoch seconds,
// Constraints an object of maps, Name and RetiringPrincipal absent when
// none), the empty answers of RetireGrant and RevokeGrant, AWS's
// null-member ValidationException, and a dry run's DryRunOperationException.
func TestGrantWire(t *testing.T) {
	f := newPolicyFixture(t)
	send := func(akid, op, body string) (int, string) {
		status, _, b := post(t, f.handler, target+op, body, "Authorization", sigV4(akid, region, "kms"))
		return status, string(b)
	}
	status, body := send(akApp, "CreateKey", `{}`)
	var ck struct{ KeyMetadata struct{ Arn string } }
	if err := json.Unmarshal([]byte(body), &ck); status != 200 || err != nil {
		t.Fatalf("CreateKey: %d %s", status, body)
	}
	key := ck.KeyMetadata.Arn
	status, body = send(akApp, "CreateGrant", `{"KeyId":"`+key+`","GranteePrincipal":"`+partnerRole+`","Operations":["Encrypt","Decrypt"],`+
		`"RetiringPrincipal":"`+aliceUser+`","Name":"n1","Constraints":{"EncryptionContextSubset":{"b":"2","a":"1"},"Unknown":[1]},"GrantTokens":[]}`)
	var cg struct{ GrantId, GrantToken string }
	if err := json.Unmarshal([]byte(body), &cg); status != 200 || err != nil || cg.GrantId == "" || cg.GrantToken == "" ||
		body != `{"GrantId":"`+cg.GrantId+`","GrantToken":"`+cg.GrantToken+`"}` {
		t.Fatalf("CreateGrant: %d %s", status, body)
	}
	status, body = send(akApp, "ListGrants", `{"KeyId":"`+key+`"}`)
	want := `{"Grants":[{"Constraints":{"EncryptionContextSubset":{"a":"1","b":"2"}},"CreationDate":1704067200.000,"GrantId":"` + cg.GrantId +
		`","GranteePrincipal":"` + partnerRole + `","IssuingAccount":"arn:aws:iam::` + account + `:root","KeyId":"` + key +
		`","Name":"n1","Operations":["Encrypt","Decrypt"],"RetiringPrincipal":"` + aliceUser + `"}],"Truncated":false}`
	if status != 200 || body != want {
		t.Errorf("ListGrants: %d %s\nwant 200 %s", status, body, want)
	}
	status, body = send(akApp, "CreateGrant", `{"KeyId":"`+key+`","GranteePrincipal":"`+aliceUser+`","Operations":["DescribeKey"],"Constraints":null}`)
	if err := json.Unmarshal([]byte(body), &cg); status != 200 || err != nil {
		t.Fatalf("second CreateGrant: %d %s", status, body)
	}
	status, body = send(akApp, "ListGrants", `{"KeyId":"`+key+`","GrantId":"`+cg.GrantId+`"}`)
	want = `{"Grants":[{"CreationDate":1704067200.000,"GrantId":"` + cg.GrantId + `","GranteePrincipal":"` + aliceUser +
		`","IssuingAccount":"arn:aws:iam::` + account + `:root","KeyId":"` + key + `","Operations":["DescribeKey"]}],"Truncated":false}`
	if status != 200 || body != want {
		t.Errorf("ListGrants GrantId: %d %s\nwant 200 %s", status, body, want)
	}
	if status, body = send(akAlice, "ListRetirableGrants", `{"RetiringPrincipal":"`+aliceUser+`","Limit":1}`); status != 200 ||
		!strings.HasPrefix(body, `{"Grants":[{"Constraints":`) || !strings.HasSuffix(body, `"Truncated":false}`) {
		t.Errorf("ListRetirableGrants: %d %s", status, body)
	}
	if status, body = send(akApp, "RevokeGrant", `{"KeyId":"`+key+`","GrantId":"`+cg.GrantId+`","DryRun":true}`); status != 400 ||
		body != `{"__type":"DryRunOperationException","message":"`+dryRunMessage+`"}` {
		t.Errorf("RevokeGrant DryRun: %d %s", status, body)
	}
	if status, body = send(akApp, "RevokeGrant", `{"KeyId":"`+key+`","GrantId":"`+cg.GrantId+`"}`); status != 200 || body != "" {
		t.Errorf("RevokeGrant: %d %q", status, body)
	}
	if status, body = send(akApp, "RetireGrant", `{"KeyId":"`+key+`","GrantId":"`+cg.GrantId+`"}`); status != 400 ||
		!strings.HasPrefix(body, `{"__type":"InvalidGrantIdException",`) {
		t.Errorf("RetireGrant of a revoked grant: %d %s", status, body)
	}
	for _, tc := range []struct{ op, body, code, msg string }{
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `"}`, "ValidationException",
			"1 validation error detected: Value null at 'operations' failed to satisfy constraint: Member must not be null"},
		{"CreateGrant", `{"GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"]}`, "ValidationException",
			"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt",null]}`, "ValidationException",
			"1 validation error detected: Value null at 'operations.2.member' failed to satisfy constraint: Member must not be null"},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"Constraints":{"EncryptionContextEquals":{"a":null}}}`,
			"ValidationException", "1 validation error detected: Value null at 'constraints.encryptionContextEquals.a' failed to satisfy constraint: Member must not be null"},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"Constraints":[]}`, "SerializationException", ""},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"Constraints":{"EncryptionContextSubset":"a"}}`,
			"SerializationException", ""},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"Constraints":{"SourceArn":"b"}}`,
			"ValidationException", "'b' at 'constraints.sourceArn' is not a valid ARN."},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"Constraints":{"SourceArn":1}}`,
			"SerializationException", ""},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteeServicePrincipal":"logs.amazonaws.com","Operations":["Encrypt"],"RetiringPrincipal":"` + aliceUser + `"}`,
			"ValidationException", "A grant to a service principal (GranteeServicePrincipal) requires a SourceArn constraint."},
		{"CreateGrant", `{"KeyId":"` + key + `","GranteePrincipal":"` + aliceUser + `","Operations":["Encrypt"],"DryRun":"yes"}`, "SerializationException", ""},
		{"RevokeGrant", `{"KeyId":"` + key + `"}`, "ValidationException",
			"1 validation error detected: Value null at 'grantId' failed to satisfy constraint: Member must not be null"},
		{"ListGrants", `{"Limit":1}`, "ValidationException",
			"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"},
		{"ListRetirableGrants", `{"RetiringPrincipal":"` + aliceUser + `","RetiringServicePrincipal":"logs.amazonaws.com"}`, "ValidationException",
			"Specify either RetiringPrincipal or RetiringServicePrincipal, but not both."},
		{"RetireGrant", `{"GrantToken":"garbage","DryRun":true}`, "InvalidGrantTokenException", "The grant token is not valid."},
	} {
		status, body := send(akApp, tc.op, tc.body)
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(body), &e); status != 400 || err != nil || e.Type != tc.code || tc.msg != "" && e.Message != tc.msg {
			t.Errorf("%s %s: %d %s\nwant 400 %s %q", tc.op, tc.body, status, body, tc.code, tc.msg)
		}
	}
}
