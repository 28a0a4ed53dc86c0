package synth

import "strconv"

// fraudState is the hidden tenancy-fraud state of a council household:
// from the day it starts until the day it ends (recovery, or never).
type fraudState struct {
	kind           string // subletting, non_occupation, false_succession
	tenancy        int    // index into household.tenancy
	from           day
	until          day
	advance        bool      // rent paid far in advance (else it falls into arrears)
	subtenants     []*person // adults living at the home unknown to the index
	elsewhere      *property // where the tenant is registered instead, if in the borough
	investigations []investigation
}

// investigation is one tenancy-fraud investigation.
type investigation struct {
	id       string
	tenancy  *tenancy
	who      *person
	referral day
	source   string
	closed   day // never while open
	outcome  string
	alleged  string
}

// makeTenancies writes the council tenancy periods of a household at its
// main property: one tenancy, split by a succession when a sole tenant dies
// and another adult stays on.
func (w *world) makeTenancies(un *unit, h *household) {
	r := un.r
	st := h.stays[0]
	hd := h.head(max(st.from, h.members[0].start))
	if hd == nil {
		hd = h.members[0]
	}
	tn := tenancy{
		id:          "T" + un.id + strconv.Itoa(h.seq) + "1",
		tenants:     []*person{hd},
		from:        st.from,
		to:          st.to,
		ttype:       []string{"secure", "introductory", "flexible", "temporary"}[r.pick(85, 6, 6, 3)],
		startReason: []string{"new_let", "transfer", "mutual_exchange", "assignment"}[r.pick(75, 12, 8, 5)],
	}
	for _, p := range h.members {
		if p != hd && p.rel == "partner" && p.start <= st.from && r.bern(0.5) {
			tn.tenants = append(tn.tenants, p)
			break
		}
	}
	switch {
	case len(h.stays) > 1:
		tn.endReason = []string{"moved_out", "surrender"}[r.pick(1, 1)]
	case hd.death <= st.to+1 && len(tn.tenants) == 1:
		tn.endReason = "death"
	default:
		tn.endReason = []string{"surrender", "moved_out", "abandonment"}[r.pick(50, 40, 10)]
	}
	// A sole tenant's death with another adult staying on: succession.
	if len(tn.tenants) == 1 && hd.death < st.to {
		var heir *person
		for _, p := range h.members {
			if p != hd && p.present(hd.death+1) && p.age(hd.death) >= 18 {
				heir = p
				break
			}
		}
		if heir != nil {
			old := tn
			old.to = hd.death
			old.endReason = "death"
			h.tenancy = append(h.tenancy, old)
			tn = tenancy{id: "T" + un.id + strconv.Itoa(h.seq) + "2", tenants: []*person{heir}, from: hd.death + 1, to: st.to,
				ttype: "secure", startReason: "succession", endReason: "surrender"}
		}
	}
	h.tenancy = append(h.tenancy, tn)
}

// drawFraud draws whether the household commits tenancy fraud, and the
// investigations that follow referrals and data matches. A confirmed fraud
// ends the tenancy (recovered_fraud).
func (w *world) drawFraud(un *unit, h *household) {
	r := un.r
	ti := len(h.tenancy) - 1
	tn := &h.tenancy[ti]
	sole := len(tn.tenants) == 1
	hd := tn.tenants[0]
	lastDay := min(tn.to, w.end-30)
	switch {
	case sole && hd.death <= w.end && hd.death > max(tn.from, w.start-365) && h.adultsAt(hd.death-1) == 1 && r.bern(0.35):
		// False succession: the tenant dies alone and the rent goes on being paid.
		h.fraud = &fraudState{kind: "false_succession", tenancy: ti, from: hd.death, until: never, advance: r.bern(0.5)}
		tn.to = never - 1
		tn.endReason = "recovered_fraud"
	case sole && h.adultsAt(max(tn.from, w.start)) == 1 && lastDay > tn.from+180 && r.bern(0.075):
		kind := "subletting"
		if r.bern(0.4) {
			kind = "non_occupation"
		}
		f := &fraudState{kind: kind, tenancy: ti, from: r.between(max(tn.from+180, w.start-2*365), lastDay), until: never, advance: r.bern(0.45)}
		if len(un.props) > 1 {
			f.elsewhere = un.props[1]
		}
		if kind == "subletting" {
			for k := r.intn(1, 3); k > 0; k-- {
				start := f.from + r.between(20, 200)
				if start > w.end {
					continue
				}
				sp := w.newPerson(un, f.from-day(r.intn(20, 45)*365), r.bern(0.5), family[r.IntN(len(family))], "not_recorded")
				sp.start = start
				sp.firstSeen = sp.start
				sp.disab = "not_recorded"
				sp.dobKnown = false
				f.subtenants = append(f.subtenants, sp)
			}
		}
		h.fraud = f
	}
	w.drawInvestigations(un, h)
}

// drawInvestigations draws referrals month by month for each council
// tenancy: data matches and tip-offs follow real fraud; staff referrals,
// audits and the occasional false match hit honest tenancies too.
func (w *world) drawInvestigations(un *unit, h *household) {
	r := un.r
	var invs []investigation
	n := 0
	for ti := range h.tenancy {
		tn := &h.tenancy[ti]
		from := max(tn.from, w.start)
		for k := w.monthIndex(from); k < len(w.months)-1; k++ {
			ms := max(w.months[k], from)
			if ms > min(tn.to, w.end) {
				break
			}
			f := h.fraud
			active := f != nil && f.tenancy == ti && f.from <= ms && ms < f.until
			// Hazards per month by source.
			var hz [5]float64 // data_match, tip_off, staff_referral, audit, national_fraud_initiative
			hz[2], hz[3], hz[1] = 0.0006, 0.0004, 0.0005
			if h.falseSPD {
				hz[0] += 0.003
			}
			if active {
				hz[0] += 0.012
				hz[1] += 0.008
				hz[2] += 0.004
				if _, m, _ := civil(ms); m == 10 && f.kind != "subletting" {
					hz[4] = 0.25
				}
			}
			total := hz[0] + hz[1] + hz[2] + hz[3] + hz[4]
			if !r.bern(total) {
				continue
			}
			src := []string{"data_match", "tip_off", "staff_referral", "audit", "national_fraud_initiative"}[r.pick(hz[:]...)]
			n++
			ref := r.between(ms, min(w.months[k+1]-1, w.end))
			inv := investigation{id: "FI" + un.id + strconv.Itoa(h.seq) + strconv.Itoa(n), tenancy: tn, who: tn.tenants[0],
				referral: ref, source: src, closed: ref + r.between(30, 300)}
			if active {
				inv.alleged = f.kind
				inv.outcome = []string{"fraud_confirmed", "insufficient_evidence", "no_fraud"}[r.pick(70, 20, 10)]
			} else {
				inv.alleged = []string{"subletting", "non_occupation", "false_succession", "wrongful_application"}[r.pick(45, 35, 5, 15)]
				inv.outcome = []string{"no_fraud", "insufficient_evidence", "fraud_confirmed"}[r.pick(78, 20, 2)]
			}
			if inv.closed > w.end {
				inv.closed, inv.outcome = never, ""
			}
			invs = append(invs, inv)
			if inv.outcome == "fraud_confirmed" && active {
				end := inv.closed + r.between(20, 90)
				f.until = end
				if end <= tn.to {
					tn.to = end
					tn.endReason = "recovered_fraud"
					if end+1 < h.depart {
						w.shortenStay(h, end+1)
					}
				}
				break
			}
			if active {
				// One open or closed case at a time: skip the months it runs.
				k = max(k, w.monthIndex(min(inv.closed, w.end)))
			}
		}
	}
	if h.fraud == nil && len(invs) > 0 {
		h.fraud = &fraudState{until: never, from: never}
	}
	if h.fraud != nil {
		h.fraud.investigations = invs
	}
}

// fraudAt reports whether tenancy ti of h is fraudulent on day t.
func (h *household) fraudAt(ti int, t day) bool {
	f := h.fraud
	return f != nil && f.kind != "" && f.tenancy == ti && f.from <= t && t < f.until
}
