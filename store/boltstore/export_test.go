package boltstore

import "os"

// SetWALCheckpoint sets the length of the log past which a commit
// checkpoints, for the tests that need checkpoints often, and returns a
// function restoring it.
func SetWALCheckpoint(n int64) (restore func()) {
	old := walCheckpoint
	walCheckpoint = n
	return func() { walCheckpoint = old }
}

// FailWAL makes the log's writes (write, given the offset and length of
// each) and syncs (sync) return the error their function returns, where
// not nil, and returns a function restoring them.
func FailWAL(write func(off int64, n int) error, sync func() error) (restore func()) {
	oldWrite, oldSync := walWriteAt, walSync
	walWriteAt = func(f *os.File, p []byte, off int64) (int, error) {
		if write != nil {
			if err := write(off, len(p)); err != nil {
				return 0, err
			}
		}
		return oldWrite(f, p, off)
	}
	walSync = func(f *os.File) error {
		if sync != nil {
			if err := sync(); err != nil {
				return err
			}
		}
		return oldSync(f)
	}
	return func() { walWriteAt, walSync = oldWrite, oldSync }
}

// DirectWAL sets whether logs opened from now on write their records
// through a direct descriptor where the file system allows it, and returns
// a function restoring the setting.
func DirectWAL(on bool) (restore func()) {
	old := directWAL
	directWAL = on
	return func() { directWAL = old }
}
