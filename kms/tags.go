package kms

import (
	"context"
	"strconv"
	"strings"

	"github.com/kmsmodel/kmsmodel/keystate"
	"github.com/kmsmodel/kmsmodel/kms/policy"
)

// maxTags is the number of tags a key may carry (D19: "Too many tags" past 50).
const maxTags = 50

// mergeTags validates add and returns existing with add applied: new keys
// appended, existing keys given the new value. It never modifies existing.
// Errors follow D19: ValidationException for lengths, then TagException
// for reserved, duplicate or too many tags.
func mergeTags(op keystate.Operation, existing, add []Tag) ([]Tag, error) {
	for i, t := range add {
		n := strconv.Itoa(i + 1)
		if err := checkLength(op, t.TagKey, "tags."+n+".member.tagKey", 1, 128); err != nil {
			return nil, err
		}
		if err := checkLength(op, t.TagValue, "tags."+n+".member.tagValue", 0, 256); err != nil {
			return nil, err
		}
	}
	seen := make(map[string]bool, len(add))
	for _, t := range add {
		if strings.HasPrefix(strings.ToLower(t.TagKey), "aws:") {
			return nil, kmsError(keystate.ErrTag, op, "", keystate.None, "Tags beginning with aws: are reserved")
		}
		if seen[t.TagKey] {
			return nil, kmsError(keystate.ErrTag, op, "", keystate.None, "Duplicate tag keys")
		}
		seen[t.TagKey] = true
	}
	if len(add) == 0 {
		return existing, nil
	}
	out := make([]Tag, len(existing), len(existing)+len(add))
	copy(out, existing)
	for _, t := range add {
		replaced := false
		for i := range out {
			if out[i].TagKey == t.TagKey {
				out[i].TagValue, replaced = t.TagValue, true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, kmsError(keystate.ErrTag, op, "", keystate.None, "Too many tags")
	}
	return out, nil
}

// TagResource adds or replaces tags on a key. An empty (or nil) Tags list
// changes nothing, but the key is still looked up and checked (D23).
//
// Errors: ValidationException, TagException (D19), InvalidArnException,
// NotFoundException, AccessDeniedException, KMSInvalidStateException.
func (s *Service) TagResource(ctx context.Context, in *TagResourceInput) (*TagResourceOutput, error) {
	in = orEmpty(in)
	const op = keystate.TagResource
	// Validate the tags on their own first (D3 step 1). No tags at all is
	// valid: the API model sets no minimum, and the call is a no-op after
	// the key checks (D23), as UntagResource with no tag keys is.
	_, invalid := mergeTags(op, nil, in.Tags)
	ctx = tagConditions(ctx, in.Tags, nil)
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, nil, func(k *key, _ int64) error {
		arn := s.arnOf(k)
		tags, err := mergeTags(op, k.tags(), in.Tags)
		if err != nil {
			if e, ok := err.(*keystate.Error); ok {
				e.KeyID, e.State = arn, k.state
			}
			return err
		}
		k.text = newKeyText(k.description(), tags)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &TagResourceOutput{}, nil
}

// UntagResource removes tags from a key by tag key; absent keys are
// ignored.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, KMSInvalidStateException.
func (s *Service) UntagResource(ctx context.Context, in *UntagResourceInput) (*UntagResourceOutput, error) {
	in = orEmpty(in)
	const op = keystate.UntagResource
	var invalid error
	for i, tk := range in.TagKeys {
		if invalid = checkLength(op, tk, "tagKeys."+strconv.Itoa(i+1)+".member", 1, 128); invalid != nil {
			break
		}
	}
	ctx = tagConditions(ctx, nil, in.TagKeys)
	err := s.keyWrite(ctx, op, in.KeyId, idOnly, invalid, nil, func(k *key, _ int64) error {
		var kept []Tag
		for _, t := range k.tags() {
			drop := false
			for _, tk := range in.TagKeys {
				if t.TagKey == tk {
					drop = true
					break
				}
			}
			if !drop {
				kept = append(kept, t)
			}
		}
		k.text = newKeyText(k.description(), kept)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &UntagResourceOutput{}, nil
}

// ListResourceTags lists a key's tags in the order they were first added,
// Limit (1–50, default 50) at a time.
//
// Errors: ValidationException, InvalidArnException, NotFoundException,
// AccessDeniedException, InvalidMarkerException.
func (s *Service) ListResourceTags(ctx context.Context, in *ListResourceTagsInput) (*ListResourceTagsOutput, error) {
	in = orEmpty(in)
	const op = keystate.ListResourceTags
	limit, invalid := pageLimit(op, in.Limit, 50, 50)
	if invalid == nil {
		invalid = validateMarker(op, in.Marker)
	}
	var out *ListResourceTagsOutput
	err := s.keyRead(ctx, op, in.KeyId, idOnly, invalid, nil, func(k *key, _ int64) error {
		scope := "tags/" + k.id
		var start uint64
		if in.Marker != "" {
			var err error
			if start, err = decodeMarker(op, in.Marker, scope); err != nil {
				return err
			}
		}
		out = &ListResourceTagsOutput{Tags: []Tag{}}
		for pos := start; pos < uint64(len(k.tags())); pos++ {
			if len(out.Tags) == limit {
				out.Truncated, out.NextMarker = true, encodeMarker(scope, pos)
				break
			}
			out.Tags = append(out.Tags, k.tags()[pos])
		}
		return nil
	})
	return out, err
}

// tagConditions adds the tag condition keys of TagResource (tags) and
// UntagResource (keys) to ctx: aws:RequestTag/<key> per tag and
// aws:TagKeys (multi-valued).
func tagConditions(ctx context.Context, tags []Tag, keys []string) context.Context {
	return withConditionEntries(ctx, appendTagConditions(nil, tags, keys)...)
}

// appendTagConditions appends to c aws:RequestTag/<key> for each of tags
// and aws:TagKeys with their keys and keys.
func appendTagConditions(c policy.Context, tags []Tag, keys []string) policy.Context {
	for _, t := range tags {
		c = append(c, policy.Single("aws:RequestTag/"+t.TagKey, t.TagValue))
		keys = append(keys, t.TagKey)
	}
	if len(keys) > 0 {
		c = append(c, policy.Multi("aws:TagKeys", keys...))
	}
	return c
}
