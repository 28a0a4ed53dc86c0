package gbdt

import (
	"context"
	"sync"
	"sync/atomic"
)

// forEach calls fn(i) for i in [0, n) on up to threads goroutines, handing
// out indices in order. It stops handing out work once ctx is done and then
// returns ctx's error. Callers make results independent of which goroutine
// runs which index, so output never depends on the number of threads.
func forEach(ctx context.Context, threads, n int, fn func(i int)) error {
	if n <= 0 {
		return ctx.Err()
	}
	workers := min(threads, n)
	if workers <= 1 {
		for i := range n {
			if i&15 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			fn(i)
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
