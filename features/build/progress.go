package build

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"caserisk/features/contract"
)

// progress prints, about twice a second, the rows read per file and the
// rate, on one line rewritten in place. It is silent when w is nil (the
// caller passes nil when standard error is not a terminal).
type progress struct {
	w     io.Writer
	files []*fileProgress
	start time.Time
	quit  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newProgress(w io.Writer, c *contract.Contract) *progress {
	p := &progress{w: w, start: time.Now(), quit: make(chan struct{})}
	for _, f := range c.Files {
		p.files = append(p.files, &fileProgress{name: strings.TrimSuffix(f.Name, ".csv")})
	}
	if w == nil {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.quit:
				p.print(true)
				return
			case <-tick.C:
				p.print(false)
			}
		}
	}()
	return p
}

func (p *progress) file(i int) *fileProgress { return p.files[i] }

func (p *progress) print(final bool) {
	secs := time.Since(p.start).Seconds()
	var total int64
	var active []string
	for _, f := range p.files {
		n := f.rows.Load()
		total += n
		if n > 0 && !f.done.Load() {
			active = append(active, fmt.Sprintf("%s %d", f.name, n))
		}
	}
	line := fmt.Sprintf("reading: %d rows, %.0f rows/s", total, float64(total)/max(secs, 1e-9))
	if len(active) > 0 {
		line += " [" + strings.Join(active, ", ") + "]"
	}
	if len(line) > 150 {
		line = line[:147] + "..."
	}
	end := ""
	if final {
		end = "\n"
	}
	fmt.Fprintf(p.w, "\r\033[K%s%s", line, end)
}

// stop ends the display; it may be called more than once.
func (p *progress) stop() {
	p.once.Do(func() {
		close(p.quit)
		p.wg.Wait()
	})
}
