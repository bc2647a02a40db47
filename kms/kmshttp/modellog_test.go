package kmshttp_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/kmsmodel/kmsmodel/kms"
	"github.com/kmsmodel/kmsmodel/kms/kmshttp"
)

// memLog is a ModelLog in memory: each change is applied to every
// handler, in one order.
type memLog struct {
	mu       sync.Mutex
	handlers []*kmshttp.Handler
	changes  []string
	syncs    int
}

func (l *memLog) Change(_ context.Context, target string, body []byte) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.changes = append(l.changes, target)
	var resp []byte
	var err error
	for i, h := range l.handlers {
		r, e := h.ApplyModelChange(target, body)
		if i == 0 {
			resp, err = r, e // the caller's is handlers[0]: the same answer everywhere here
		}
	}
	return resp, err
}

func (l *memLog) Sync(context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.syncs++
	return nil
}

// WithModelLog: a handler sends the KmsModel targets that change IAM,
// Organizations and VPC endpoints to its ModelLog, which applies them on
// every handler, answers with the change's own answer or refusal, and
// syncs before a target that reads them; other targets it serves itself.
func TestModelLog(t *testing.T) {
	log := &memLog{}
	var hs []*kmshttp.Handler
	for range 2 {
		iam := kms.NewIdentityPolicies()
		h, err := kmshttp.New(kms.New(kms.WithIdentityPolicies(iam)), kmshttp.WithIdentityPolicies(iam), kmshttp.WithModelLog(log))
		if err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	log.handlers = hs
	const role = "arn:aws:iam::111122223333:role/app"
	doc := string(mustJSON(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Encrypt","Resource":"*"}]}`))
	postOK(t, hs[0], "KmsModel.PutIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use","PolicyDocument":`+doc+`}`)
	got := postOK(t, hs[1], "KmsModel.GetIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use"}`)
	if !strings.Contains(got["PolicyDocument"].(string), "kms:Encrypt") || log.syncs != 1 {
		t.Fatalf("the other handler's GetIdentityPolicy: %v (syncs %d)", got, log.syncs)
	}
	id := postOK(t, hs[0], "KmsModel.CreatePrincipal", `{"PrincipalArn":"`+role+`"}`)["UserId"]
	if other := postOK(t, hs[1], "KmsModel.GetUserId", `{"PrincipalArn":"`+role+`"}`)["UserId"]; other != id || id == nil {
		t.Fatalf("UserId %v on one handler, %v on the other", id, other)
	}
	refused(t, hs[1], "KmsModel.DeleteIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"none"}`, "NotFoundException")
	postOK(t, hs[1], "TrentService.CreateKey", `{}`)
	if want := []string{"KmsModel.PutIdentityPolicy", "KmsModel.CreatePrincipal", "KmsModel.DeleteIdentityPolicy"}; strings.Join(log.changes, " ") != strings.Join(want, " ") {
		t.Fatalf("changes through the log: %v, want %v", log.changes, want)
	}
	// What this handler cannot apply, whatever the state, never reaches
	// the log: a body that is no object of strings, IAM on a handler
	// without it, an endpoint it does not have.
	bare, err := kmshttp.New(kms.New(), kmshttp.WithModelLog(log))
	if err != nil {
		t.Fatal(err)
	}
	refused(t, bare, "KmsModel.PutIdentityPolicy", `{"PrincipalArn":"`+role+`","PolicyName":"use","PolicyDocument":`+doc+`}`, "UnknownOperationException")
	refused(t, bare, "KmsModel.SetVPCEndpointPolicy", `{"VpcEndpointId":"vpce-0123456789abcdef0"}`, "NotFoundException")
	refused(t, hs[0], "KmsModel.CreatePrincipal", `{"PrincipalArn":7}`, "SerializationException")
	if len(log.changes) != 3 {
		t.Fatalf("refused changes reached the log: %v", log.changes)
	}
	if kmshttp.IsModelChange("KmsModel.GetUserId") || !kmshttp.IsModelChange("KmsModel.SetVPCEndpointPolicy") || kmshttp.IsModelChange("TrentService.CreateKey") {
		t.Error("IsModelChange")
	}
	if _, err := hs[0].ApplyModelChange("KmsModel.AdvanceClock", []byte(`{}`)); err == nil {
		t.Error("ApplyModelChange of a target that is no model change: no error")
	}
}
