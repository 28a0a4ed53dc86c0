package gbdt

import "math"

// minSplitGain is the smallest gain worth a split even when Gamma is 0, as
// XGBoost's kRtEps: it keeps rounding noise from splitting a node.
const minSplitGain = 1e-6

// splitInfo describes the best split found for a node.
type splitInfo struct {
	gain        float64 // loss reduction; > 0 when valid
	feature     int
	bin         uint8 // rows with a value bin in 1..bin go left
	defaultLeft bool  // where rows with a missing value go
	left, right gradPair
	valid       bool
}

// better reports whether a candidate with gain g beats s. Ties keep the
// earlier candidate, so the search order (features ascending, bins
// ascending, missing-right before missing-left) decides them.
func (s *splitInfo) better(g float64) bool { return !s.valid || g > s.gain }

// splitter evaluates splits under the regularisation parameters.
type splitter struct {
	lambda, alpha, minChildWeight, gamma float64
	mono                                 []int8 // per feature; nil = none
	nbins                                []int  // value bins per feature
}

// thresholdL1 is the gradient sum shrunk towards 0 by alpha.
func (s *splitter) thresholdL1(g float64) float64 {
	switch {
	case g > s.alpha:
		return g - s.alpha
	case g < -s.alpha:
		return g + s.alpha
	}
	return 0
}

// weight is the optimal (unscaled) leaf value for sums p, clipped to the
// node's monotone bounds [lo, hi].
func (s *splitter) weight(p gradPair, lo, hi float64) float64 {
	den := p.h + s.lambda
	if den <= 0 {
		return 0
	}
	w := -s.thresholdL1(p.g) / den
	return min(max(w, lo), hi)
}

// gainAt is twice the loss reduction of giving value w to rows with sums p:
// -(2Gw + (H+lambda)w² + 2alpha|w|). At the unclipped optimum it equals
// XGBoost's T(G)²/(H+lambda), T being the L1-shrunk gradient.
func (s *splitter) gainAt(p gradPair, w float64) float64 {
	return -(2*p.g*w + (p.h+s.lambda)*w*w + 2*s.alpha*math.Abs(w))
}

// childOK reports whether a child with sums p may be created.
func (s *splitter) childOK(p gradPair) bool {
	return p.h > 0 && p.h >= s.minChildWeight
}

// best finds the best split of a node with histogram h, gradient sums sum
// and monotone bounds [lo, hi], among features feats. It returns an invalid
// splitInfo when no split gains more than max(gamma, minSplitGain).
func (s *splitter) best(h hist, sum gradPair, lo, hi float64, feats []int32) splitInfo {
	var best splitInfo
	parentW := s.weight(sum, lo, hi)
	parentGain := s.gainAt(sum, parentW)
	free := s.alpha == 0 && math.IsInf(lo, -1) && math.IsInf(hi, 1)
	for _, f32 := range feats {
		f := int(f32)
		nb := s.nbins[f]
		if nb < 2 && h[f][missingBin].h == 0 {
			continue // a constant feature with no missing values
		}
		var c int8
		if s.mono != nil {
			c = s.mono[f]
		}
		if free && c == 0 {
			s.scanFree(&h[f], nb, sum, parentGain, f, &best)
		} else {
			s.scanConstrained(&h[f], nb, sum, lo, hi, c, parentGain, f, &best)
		}
	}
	if best.valid && (best.gain <= s.gamma || best.gain <= minSplitGain) {
		best.valid = false
	}
	return best
}

// consider records a candidate if it is allowed and better than best.
func (s *splitter) consider(best *splitInfo, gain float64, f int, bin uint8, defLeft bool, l, r gradPair) {
	if best.better(gain) {
		*best = splitInfo{gain: gain, feature: f, bin: bin, defaultLeft: defLeft, left: l, right: r, valid: true}
	}
}

// scanFree scans one feature's bins for a node without L1 penalty or
// monotone bounds, where the gain has the closed form G²/(H+lambda).
func (s *splitter) scanFree(hf *[256]gradPair, nb int, sum gradPair, parentGain float64, f int, best *splitInfo) {
	miss := hf[missingBin]
	lam, mcw := s.lambda, s.minChildWeight
	if miss.h > 0 {
		// Missing rows on their own to the left, every value to the right.
		r := sum.sub(miss)
		if s.childOK(miss) && s.childOK(r) {
			gain := miss.g*miss.g/(miss.h+lam) + r.g*r.g/(r.h+lam) - parentGain
			s.consider(best, gain, f, 0, true, miss, r)
		}
	}
	var l gradPair
	for b := 1; b < nb; b++ {
		e := hf[b]
		if e.h == 0 && e.g == 0 {
			continue // same partition as the previous bin
		}
		l.g += e.g
		l.h += e.h
		// Missing rows go right.
		r := sum.sub(l)
		if l.h > 0 && l.h >= mcw && r.h > 0 && r.h >= mcw {
			gain := l.g*l.g/(l.h+lam) + r.g*r.g/(r.h+lam) - parentGain
			if !best.valid || gain > best.gain {
				s.consider(best, gain, f, uint8(b), false, l, r)
			}
		}
		if miss.h > 0 {
			// Missing rows go left.
			lm := l.add(miss)
			rm := sum.sub(lm)
			if s.childOK(lm) && s.childOK(rm) {
				gain := lm.g*lm.g/(lm.h+lam) + rm.g*rm.g/(rm.h+lam) - parentGain
				s.consider(best, gain, f, uint8(b), true, lm, rm)
			}
		}
	}
}

// scanConstrained scans one feature's bins with the general gain: leaf
// values clipped to [lo, hi], the L1 penalty, and for a monotone feature c
// (+1/-1) only splits whose left value is not above (below) the right one.
func (s *splitter) scanConstrained(hf *[256]gradPair, nb int, sum gradPair, lo, hi float64, c int8, parentGain float64, f int, best *splitInfo) {
	eval := func(l, r gradPair, bin uint8, defLeft bool) {
		if !s.childOK(l) || !s.childOK(r) {
			return
		}
		wl, wr := s.weight(l, lo, hi), s.weight(r, lo, hi)
		if (c > 0 && wl > wr) || (c < 0 && wl < wr) {
			return
		}
		s.consider(best, s.gainAt(l, wl)+s.gainAt(r, wr)-parentGain, f, bin, defLeft, l, r)
	}
	miss := hf[missingBin]
	if miss.h > 0 {
		eval(miss, sum.sub(miss), 0, true)
	}
	var l gradPair
	for b := 1; b < nb; b++ {
		e := hf[b]
		if e.h == 0 && e.g == 0 {
			continue
		}
		l = l.add(e)
		eval(l, sum.sub(l), uint8(b), false)
		if miss.h > 0 {
			lm := l.add(miss)
			eval(lm, sum.sub(lm), uint8(b), true)
		}
	}
}

// childBounds returns the monotone bounds of the children of a node with
// bounds [lo, hi] split by sp: for a monotone feature the children meet at
// the midpoint of their values, so every later leaf on the left stays below
// every later leaf on the right (XGBoost's scheme).
func (s *splitter) childBounds(sp *splitInfo, lo, hi float64) (llo, lhi, rlo, rhi float64) {
	llo, lhi, rlo, rhi = lo, hi, lo, hi
	var c int8
	if s.mono != nil {
		c = s.mono[sp.feature]
	}
	if c == 0 {
		return
	}
	wl, wr := s.weight(sp.left, lo, hi), s.weight(sp.right, lo, hi)
	mid := (wl + wr) / 2
	if c > 0 {
		lhi, rlo = mid, mid
	} else {
		llo, rhi = mid, mid
	}
	return
}
