package boltstore

// SetWALCheckpoint sets the length of the log past which a commit
// checkpoints, for the tests that need checkpoints often, and returns a
// function restoring it.
func SetWALCheckpoint(n int64) (restore func()) {
	old := walCheckpoint
	walCheckpoint = n
	return func() { walCheckpoint = old }
}
