package proctest

import "sync"

// Drive makes n calls, call(0) to call(n-1), from clients goroutines at
// once, each taking the next index as soon as its call before returns (a
// closed loop, as a fixed number of clients load a server), and returns
// the first error a call returned; after an error no more calls start.
func Drive(clients, n int, call func(i int) error) error {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		next   int
		failed error
	)
	for range clients {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= n || failed != nil
				mu.Unlock()
				if stop {
					return
				}
				if err := call(i); err != nil {
					mu.Lock()
					if failed == nil {
						failed = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return failed
}
