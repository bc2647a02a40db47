package etcdstore

import (
	"context"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kmsmodel/kmsmodel/store"
)

// watchBuffer is how many Changes Watch holds for a slow receiver before
// it stops reading etcd's watch stream.
const watchBuffer = 64

// Watch delivers every commit after revision after, one store.Change
// each, in revision order (store.Shared). A Change's Batch is the
// commit's net effect: PutKeys the keys it put (created or replaced),
// AddRotations the rotations it added, in order, DeleteKeys the keys it
// deleted; a key that the commit deleted and created again is in both
// DeleteKeys and PutKeys, and its AddRotations are its whole new history:
// apply the deletion first. When etcd no longer keeps the revisions after
// after, the last Change has Err wrapping store.ErrCompacted; when the
// store is closed, store.ErrClosed. The channel closes after the last
// Change, or when ctx is done.
func (s *Store) Watch(ctx context.Context, after int64) (<-chan store.Change, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("etcdstore: watch: %w", store.ErrClosed)
	}
	// When the store has no commit after after, the watch starts at the
	// cluster's revision instead: what lies between is other prefixes'
	// writes, and etcd may have compacted it already.
	from := after + 1
	rev, at, err := s.revision(ctx)
	if err != nil {
		return nil, err
	}
	if rev <= after {
		from = max(after, at) + 1
	}
	ctx, cancel := context.WithCancel(ctx)
	// Not WithRequireLeader: that would end the watch whenever its member
	// is between leaders (a leader's crash); the client resumes the watch
	// on another member from where it was instead. A member cut off from
	// the quorum may keep a watch silent; Revision, a linearizable read,
	// then tells the watcher how far behind it is.
	wch := s.cli.Watch(ctx, s.l.prefix, clientv3.WithPrefix(), clientv3.WithRev(from))
	out := make(chan store.Change, watchBuffer)
	go func() {
		defer cancel()
		defer close(out)
		send := func(c store.Change) bool {
			select {
			case out <- c:
				return true
			case <-ctx.Done():
				return false
			}
		}
		for resp := range wch {
			if resp.CompactRevision != 0 {
				send(store.Change{Err: fmt.Errorf("etcdstore: watch after revision %d: etcd compacted up to revision %d: %w",
					after, resp.CompactRevision, store.ErrCompacted)})
				return
			}
			if err := resp.Err(); err != nil {
				send(store.Change{Err: s.fail("watch", err)})
				return
			}
			evs := resp.Events
			for len(evs) > 0 {
				rev := evs[0].Kv.ModRevision
				n := 1
				for n < len(evs) && evs[n].Kv.ModRevision == rev {
					n++
				}
				c, commit, err := s.change(rev, evs[:n])
				if err != nil {
					send(store.Change{Revision: rev, Err: err})
					return
				}
				evs = evs[n:]
				if !commit && c.Batch.Empty() { // not the store's writes
					continue
				}
				if !send(c) {
					return
				}
			}
		}
		if ctx.Err() == nil {
			err := fmt.Errorf("etcdstore: watch ended: %w", store.ErrClosed)
			if !s.closed.Load() {
				err = fmt.Errorf("etcdstore: watch ended by etcd")
			}
			send(store.Change{Err: err})
		}
	}()
	return out, nil
}

// change decodes the events of one revision; commit reports whether the
// store's revision record is among them (a commit of the store's).
func (s *Store) change(rev int64, evs []*clientv3.Event) (c store.Change, commit bool, err error) {
	c = store.Change{Revision: rev}
	b := &c.Batch
	p := s.l.prefix
	for _, ev := range evs {
		name := string(ev.Kv.Key[len(p):])
		put := ev.Type == mvccpb.PUT
		ns, rest, _ := strings.Cut(name, "/")
		switch ns + "/" {
		case nsKey:
			if !put {
				b.DeleteKeys = append(b.DeleteKeys, rest)
				s.keyMetas.drop(rest, rev)
				break
			}
			var rec keyRecord
			if rec, err = decodeKey(ev.Kv.Value); err != nil {
				break
			}
			s.keyMetas.put(rec.key.ID, keyMeta{modRev: ev.Kv.ModRevision, version: rec.key.Version, rotations: rec.rotations})
			if rec.recreated {
				b.DeleteKeys = append(b.DeleteKeys, rec.key.ID)
			}
			if rec.put {
				b.PutKeys = append(b.PutKeys, rec.key)
			}
		case nsRot:
			if !put {
				break
			}
			var r store.KeyRotation
			if r.KeyID, _, err = parseRotationKey(rest); err != nil {
				break
			}
			if r.Rotation, err = decodeRotation(ev.Kv.Value); err == nil {
				b.AddRotations = append(b.AddRotations, r)
			}
		case nsAlias:
			if put {
				var a store.Alias
				if a, err = decodeAlias(ev.Kv.Value); err == nil {
					b.PutAliases = append(b.PutAliases, a)
				}
				break
			}
			var id store.AliasID
			if id, err = parseAliasID(rest); err == nil {
				b.DeleteAliases = append(b.DeleteAliases, id)
			}
		case nsGrant:
			if put {
				var g store.Grant
				if g, err = decodeGrant(ev.Kv.Value); err == nil {
					b.PutGrants = append(b.PutGrants, g)
				}
				break
			}
			var id store.GrantID
			if id, err = parseGrantID(rest); err == nil {
				b.DeleteGrants = append(b.DeleteGrants, id)
			}
		case nsStore:
			if !put {
				b.DeleteCustomKeyStores = append(b.DeleteCustomKeyStores, rest)
				break
			}
			var cks store.CustomKeyStore
			if cks, err = decodeCustomKeyStore(ev.Kv.Value); err == nil {
				b.PutCustomKeyStores = append(b.PutCustomKeyStores, cks)
			}
		default:
			switch name {
			case keySecret:
				if b.PutSecret, err = s.unseal(keySecret, ev.Kv.Value); err != nil {
					b.PutSecret = nil
				}
			case keyNow:
				b.Now, err = decodeTime(ev.Kv.Value)
			case keyRules:
				b.RuleProfile = string(ev.Kv.Value)
			case keyRev:
				commit = true
			}
		}
		if err != nil {
			return c, false, fmt.Errorf("etcdstore: watch: revision %d: %s: %w: %w", rev, strings.ToValidUTF8(name, "?"), err, store.ErrCorrupt)
		}
	}
	return c, commit, nil
}
