package kmshttp

// The eventual-consistency targets (issue 17) are kmsmodel's own, like
// KmsModel.AdvanceClock, and need no manual clock: a test in any language
// asks whether every change has propagated, and forces propagation, so
// that it moves from the inconsistent window to the settled state without
// sleeping.

// propagationStatus serves KmsModel.GetPropagationStatus: {} answers
// {"Enabled": b, "Propagated": b, "Pending": n, "SettleTime": t}, with
// SettleTime (when everything pending will have taken effect) absent when
// Propagated. Without the model Enabled is false and Propagated true.
func (h *Handler) propagationStatus(body, out []byte) ([]byte, error) {
	if err := decodeObject(body, func(r *reader, _ []byte) error { return r.skip() }); err != nil {
		return out, err
	}
	return h.propagationState(out, -1), nil
}

// propagate serves KmsModel.Propagate: every change becomes visible to
// every caller and every deletion waiting past its DeletionDate fires,
// without moving the clock (kms.Service.Propagate). It answers
// {"Settled": n, "Enabled": b, "Propagated": true, "Pending": 0}.
func (h *Handler) propagate(body, out []byte) ([]byte, error) {
	if err := decodeObject(body, func(r *reader, _ []byte) error { return r.skip() }); err != nil {
		return out, err
	}
	n := h.svc.Propagate()
	return h.propagationState(out, n), nil
}

func (h *Handler) propagationState(out []byte, settled int) []byte {
	st := h.svc.PropagationStatus()
	w := writer{b: out}
	w.open()
	if settled >= 0 {
		w.int("Settled", int64(settled))
	}
	w.boolean("Enabled", st.Enabled)
	w.boolean("Propagated", st.Propagated)
	w.int("Pending", int64(st.Pending))
	if !st.Propagated {
		w.time("SettleTime", st.SettleTime)
	}
	w.close()
	return w.b
}
