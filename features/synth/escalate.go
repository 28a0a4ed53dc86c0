package synth

// Escalation model. The history is cut into 12-month blocks aligned on the
// as-of date: block j covers (blockStart(j), blockStart(j+1)], and the last
// block is the label window (as_of, as_of + 12 months]. For each block a
// household is present at the start of, it escalates with probability
// p = sigmoid(logit) computed from its hidden state and make-up at the
// block's start; the crisis event and its precursors are then placed inside
// the block. p of the last block is the oracle's exact p_escalation.

// escAlpha sets the base rate: 2–6% of residents see a household escalation a year.
const escAlpha = -4.85

// escLogit returns the log-odds that household h escalates in the block
// starting at bs.
func (w *world) escLogit(h *household, bs day, prior bool) float64 {
	f, v, i := w.state(h, bs)
	lp := escAlpha + 0.7*f + 0.7*v + 0.45*i
	child, vuln := false, false
	for _, p := range h.members {
		if !p.present(bs) {
			continue
		}
		a := p.age(bs)
		if a < 18 {
			child = true
		}
		if a >= 75 || (p.disabled && a >= 18) {
			vuln = true
		}
	}
	if child {
		lp += 0.7
	}
	if vuln {
		lp += 0.5
	}
	if prior {
		lp += 0.9
	}
	if h.council {
		lp += 0.3
	}
	return lp
}

// drawEscalations draws the household's escalations block by block.
func (w *world) drawEscalations(un *unit, h *household) {
	r := un.r
	prior := false
	for j := 0; j < w.blocks; j++ {
		bs, be := w.blockStart(j), w.blockStart(j+1)
		if h.where(bs) == nil || len(h.presentAt(bs)) == 0 {
			continue
		}
		p := sigmoid(w.escLogit(h, bs, prior))
		if j == w.blocks-1 {
			h.pAsOf, h.atAsOf = p, true
		}
		if !r.bern(p) {
			continue
		}
		t := r.between(bs+1, min(be, h.depart-1))
		var who [5]*person
		var wt [5]float64
		for _, m := range h.members {
			if m.start > bs || m.end < t {
				continue
			}
			a := m.age(t)
			if a < 18 && who[escCP] == nil {
				who[escCP], who[escLAC] = m, m
				wt[escCP], wt[escLAC] = 3, 1
			}
			if a >= 18 && (a >= 65 || m.disabled) && who[escSafeguarding] == nil {
				who[escSafeguarding], wt[escSafeguarding] = m, 2.5
			}
		}
		if hd := h.head(bs); hd != nil && hd.end >= t {
			who[escHomeless] = hd
			wt[escHomeless] = byTenure(un.props[0].tenure, 0.8, 1, 1.8, 0.25)
			st := h.where(t)
			if tn := h.tenancyAt(t); tn != nil && h.tenancyAt(bs) == tn && st != nil && st.slot == 0 && h.evictAt == 0 {
				// The eviction is recorded against a tenant living there.
				for _, p := range tn.tenants {
					if p.start <= bs && p.end >= t {
						who[escEviction], wt[escEviction] = p, 0.5
						break
					}
				}
			}
		}
		if wt == [5]float64{} {
			continue
		}
		k := r.pick(wt[:]...)
		h.esc = append(h.esc, escalation{kind: k, at: t, who: who[k], blockStart: bs})
		prior = true
		if k == escEviction {
			h.evictAt = t
			for i := range h.tenancy {
				if h.tenancy[i].from <= t && t <= h.tenancy[i].to {
					h.tenancy[i].endReason = "eviction"
				}
			}
			w.shortenStay(h, t+1)
			if h.fraud != nil && h.fraud.until > t {
				h.fraud.until = t + 1
			}
		}
	}
}

// escalatedInWindow reports whether h has an escalation in the label window.
func (w *world) escalatedInWindow(h *household) bool {
	for _, e := range h.esc {
		if e.at > w.asOf && e.at <= w.end {
			return true
		}
	}
	return false
}
