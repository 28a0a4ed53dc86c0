package synth

import (
	"strconv"
	"strings"
	"unicode"

	"caserisk/features/contract"
)

// Raw person records: the policy and the corruption rates.
//
// Each source holds one person record per resident with a row in it, under
// its own opaque id (a prefix such as "CT" and eight base-36 characters).
// For 1.5% of the people whose rows in a source span more than one day the
// source holds a second, duplicate record created on a later day, and the
// person's rows from that day on are held under it; for a further 0.3% it
// holds an empty duplicate created in error, with no rows (ONS and local
// authority data-quality reviews report duplicate person records within
// one system of about 1–3%).
//
// A record holds the person's details as the system recorded them when the
// record was created: the name, date of birth and sex of the Residents
// Index, and the address of the person's home on the record's first row
// (an old address once the person moves), except that each source keeps
// some records up to date with the address on the record's last row
// (RawSourcePolicy.AddressUpdated). Then each kind of error is applied at a
// fixed rate chosen up front from the record-linkage literature (Winkler's
// and Christen's error profiles of administrative files, the ONS 2011/2021
// census–administrative data linkage reports, NHS PDS and DWP CIS
// data-quality notes), not tuned to make linkage easy or hard:
//
//	name_typo            3%    one edit in the given or family name: substitution, deletion, insertion or adjacent transposition
//	name_variant         3%    a nickname, short form or spelling variant (Margaret→Peggy, Muhammad→Mohammed), of records with a listed variant
//	name_swap            1%    given and family name swapped
//	family_name_change   1%    an adult's other (earlier) family name, the same for every source
//	name_format         10%    case, punctuation or whitespace variant (O'BRIEN, o brien, OBrien, trailing space)
//	dob_missing          by source (libraries 45%, parking 60%, environmental 70%, social care 1%)
//	dob_placeholder      0.5%  01/01 of the right year
//	dob_day_month_swap   1%    of records whose day is 12 or less (where a swap gives another valid date)
//	dob_digit_typo       1%    one digit of the day, month or year changed
//	sex_missing          2%
//	address_updated      by source: the address on the record's last row instead of its first
//	address_abbreviation 15%   Road→Rd, Street→St, ...
//	address_flat_format   8%   "Flat 3, 12 X Road" written "3/12 X Road", "Flat 3 12 X Road" or "12C X Road"
//	address_flat_missing  3%   the flat dropped
//	address_town_dropped 20%   ", London" dropped
//	address_case          5%   upper case
//	postcode_missing     2–5% by source
//	postcode_format       3%   space dropped or lower case
//	postcode_typo         1%   one character changed
//	uprn_held            95% in address-based systems (council tax, tenancies, rent, repairs, electoral register, benefits, environmental), none elsewhere
//	ni_held              by source for people aged 16 and over: benefits 95%, tenancies 70%, adult social care 50%, homelessness 40%
//	ni_typo               1%   of NI numbers held, one digit changed
//	ethnicity_missing     5%   where the source records ethnicity (social care, education, tenancies, homelessness, early help)
//	disability_missing    5%   likewise
//	death_held           90%   of recorded deaths, in council tax, tenancies, adult social care, electoral register and housing benefit
//
// Council tax support and housing benefit (one revenues-and-benefits
// system) hold names in upper case: a convention, not an error.
//
// NI numbers are synthetic: QQ (a prefix HMRC never issues), six digits
// and a suffix A–D, one per true person (a permutation of 4,000,000
// numbers, so they collide only in a borough of more people than that).
// Twins and people sharing a parent's given name are in the truth itself
// (see unit.go), not made by corruption.

// Fixed rates of the record policy; per-source rates are in sourcePolicy.
const (
	rateDuplicate      = 0.015
	rateEmptyDuplicate = 0.003
)

// RawSourcePolicy is what a source holds and its source-specific rates.
type RawSourcePolicy struct {
	Prefix          string  `json:"record_prefix"`
	DOBMissing      float64 `json:"dob_missing_rate"`
	AddressUpdated  float64 `json:"address_updated_rate"`
	PostcodeMissing float64 `json:"postcode_missing_rate"`
	UPRN            float64 `json:"uprn_rate"`
	NINumber        float64 `json:"ni_number_rate"`
	Ethnicity       bool    `json:"records_ethnicity_disability"`
	Death           bool    `json:"records_death"`
	UpperCaseNames  bool    `json:"upper_case_names"`
}

// sourcePolicy returns the policy of a source file.
func sourcePolicy(f *contract.File) RawSourcePolicy {
	p := RawSourcePolicy{Prefix: "X", DOBMissing: 0.1, AddressUpdated: 0.3, PostcodeMissing: 0.03}
	set := func(prefix string, dob, upd, pc, uprn, ni float64, eth, death bool) {
		p = RawSourcePolicy{Prefix: prefix, DOBMissing: dob, AddressUpdated: upd, PostcodeMissing: pc, UPRN: uprn, NINumber: ni, Ethnicity: eth, Death: death}
	}
	switch f.Service {
	case "council_tax":
		set("CT", 0.15, 0.6, 0.02, 0.95, 0, false, true)
	case "council_tax_support":
		set("CTS", 0.01, 0.8, 0.02, 0.95, 0.95, false, false)
		p.UpperCaseNames = true
	case "housing_benefit":
		set("HB", 0.01, 0.8, 0.02, 0.95, 0.95, false, true)
		p.UpperCaseNames = true
	case "tenancies":
		set("TEN", 0.02, 0.3, 0.02, 0.95, 0.7, true, true)
	case "rent_account":
		set("RA", 0.10, 0.3, 0.02, 0.95, 0, false, false)
	case "repairs":
		set("REP", 0.30, 0.2, 0.03, 0.95, 0, false, false)
	case "electoral_register":
		set("ER", 0.10, 0.85, 0.02, 0.95, 0, false, true)
	case "adult_social_care":
		set("ASC", 0.01, 0.6, 0.03, 0, 0.5, true, true)
	case "childrens_social_care":
		set("CSC", 0.01, 0.6, 0.03, 0, 0, true, false)
	case "early_help":
		set("EH", 0.03, 0.4, 0.03, 0, 0, true, false)
	case "education":
		set("UPN", 0.002, 0.7, 0.03, 0, 0, true, false)
	case "homelessness":
		set("HOM", 0.03, 0.3, 0.04, 0, 0.4, true, false)
	case "anti_social_behaviour":
		set("ASB", 0.30, 0.1, 0.05, 0, 0, false, false)
	case "parking":
		set("PK", 0.60, 0.5, 0.04, 0, 0, false, false)
	case "libraries":
		set("LIB", 0.45, 0.2, 0.05, 0, 0, false, false)
	case "environmental_services":
		set("ENV", 0.70, 0.1, 0.05, 0.95, 0, false, false)
	case "debt_recovery":
		set("DR", 0.25, 0.4, 0.03, 0, 0, false, false)
	case "youth_offending":
		set("YOS", 0.005, 0.5, 0.03, 0, 0, false, false)
	case "fraud_investigations":
		set("FI", 0.05, 0.2, 0.03, 0, 0, false, false)
	default:
		var b strings.Builder
		for _, w := range strings.Split(f.Service, "_") {
			if w != "" {
				b.WriteByte(byte(unicode.ToUpper(rune(w[0]))))
			}
		}
		p.Prefix = b.String()
	}
	return p
}

// Kinds of corruption, in manifest order.
const (
	kNameTypo = iota
	kNameVariant
	kNameSwap
	kFamilyChange
	kNameFormat
	kDOBMissing
	kDOBPlaceholder
	kDOBSwap
	kDOBTypo
	kSexMissing
	kAddressUpdated
	kAddrAbbrev
	kAddrFlatFormat
	kAddrFlatMissing
	kAddrTown
	kAddrCase
	kPostcodeMissing
	kPostcodeFormat
	kPostcodeTypo
	kUPRNHeld
	kNIHeld
	kNITypo
	kEthMissing
	kDisabMissing
	kDeathHeld
	nKinds
)

// kindInfo names each kind; rate is its fixed target (0 where the source
// sets it).
var kindInfo = [nKinds]struct {
	name, desc string
	rate       float64
}{
	kNameTypo:        {"name_typo", "one edit (substitution, deletion, insertion, adjacent transposition) in the given or family name", 0.03},
	kNameVariant:     {"name_variant", "nickname, short form or spelling variant, of records whose name has a listed variant", 0.03},
	kNameSwap:        {"name_swap", "given and family name swapped", 0.01},
	kFamilyChange:    {"family_name_change", "an adult's other (earlier) family name", 0.01},
	kNameFormat:      {"name_format", "case, punctuation or whitespace variant", 0.10},
	kDOBMissing:      {"dob_missing", "date of birth missing (rate by source), of people whose date of birth is known", 0},
	kDOBPlaceholder:  {"dob_placeholder", "date of birth recorded as 1 January of the right year", 0.005},
	kDOBSwap:         {"dob_day_month_swap", "day and month transposed, of dates whose day is 12 or less and not the month", 0.01},
	kDOBTypo:         {"dob_digit_typo", "one digit of the date of birth changed", 0.01},
	kSexMissing:      {"sex_missing", "sex missing, of people whose sex is known", 0.02},
	kAddressUpdated:  {"address_updated", "address updated to the one on the record's last row (rate by source), of records whose person moved during the record's life", 0},
	kAddrAbbrev:      {"address_abbreviation", "street word abbreviated, of addresses with one", 0.15},
	kAddrFlatFormat:  {"address_flat_format", "flat written another way, of addresses with a flat", 0.08},
	kAddrFlatMissing: {"address_flat_missing", "flat dropped, of addresses with a flat", 0.03},
	kAddrTown:        {"address_town_dropped", "town dropped", 0.20},
	kAddrCase:        {"address_case", "address in upper case", 0.05},
	kPostcodeMissing: {"postcode_missing", "postcode missing (rate by source)", 0},
	kPostcodeFormat:  {"postcode_format", "postcode space dropped or lower case", 0.03},
	kPostcodeTypo:    {"postcode_typo", "one postcode character changed", 0.01},
	kUPRNHeld:        {"uprn_held", "UPRN held, in address-based systems", 0},
	kNIHeld:          {"ni_held", "NI number held (rate by source), of people aged 16 or over in sources that hold one", 0},
	kNITypo:          {"ni_typo", "one digit of a held NI number changed", 0.01},
	kEthMissing:      {"ethnicity_missing", "ethnic group missing where the source records it", 0.05},
	kDisabMissing:    {"disability_missing", "disability missing where the source records it", 0.05},
	kDeathHeld:       {"death_held", "a recorded death held, in sources that hold deaths", 0.90},
}

// rawCounts tallies each kind: records eligible, records it was applied
// to, and the expected number (the sum of the rates drawn with).
type rawCounts [nKinds]struct {
	eligible, applied int
	expected          float64
}

// draw decides kind k for an eligible record at rate p.
func (c *rawCounts) draw(k int, p float64, r rng) bool {
	c[k].eligible++
	c[k].expected += p
	if r.bern(p) {
		c[k].applied++
		return true
	}
	return false
}

func (c *rawCounts) add(o *rawCounts) {
	for k := range c {
		c[k].eligible += o[k].eligible
		c[k].applied += o[k].applied
		c[k].expected += o[k].expected
	}
}

func (c *rawCounts) report() []RawCorruption {
	out := make([]RawCorruption, nKinds)
	for k := range out {
		x := RawCorruption{Kind: kindInfo[k].name, Description: kindInfo[k].desc, Eligible: c[k].eligible, Applied: c[k].applied}
		if x.Eligible > 0 {
			x.Target = round4(c[k].expected / float64(x.Eligible))
			x.Rate = round4(float64(x.Applied) / float64(x.Eligible))
		} else {
			x.Target = kindInfo[k].rate
		}
		out[k] = x
	}
	return out
}

func round4(x float64) float64 { return float64(int64(x*10000+0.5)) / 10000 }

// person writes record rec's person row (without WriteRow).
func (rw *rawWorld) person(si int, pol RawSourcePolicy, rec *rawRec, wr *contract.Writer, c *rawCounts) {
	i := int(rec.res)
	r := rawRNG(rw.cfg.Seed, i, si, uint64(rec.kind))
	created, last := rec.created, rec.last
	wr.SetString(contract.RawRecordID, rec.id)

	// Name.
	given, fam := rw.given[i], rw.family[i]
	dob := rw.dob[i]
	if dob == contract.NoDay || ageAt(dob, created) >= 18 {
		if c.draw(kFamilyChange, kindInfo[kFamilyChange].rate, r) {
			fam = rw.otherFamily(i)
		}
	}
	gv, fv := givenVariants[given], familyVariants[fam]
	if len(gv)+len(fv) > 0 && c.draw(kNameVariant, kindInfo[kNameVariant].rate, r) {
		if len(fv) == 0 || (len(gv) > 0 && r.bern(0.7)) {
			given = gv[r.IntN(len(gv))]
		} else {
			fam = fv[r.IntN(len(fv))]
		}
	}
	if c.draw(kNameTypo, kindInfo[kNameTypo].rate, r) {
		if r.bern(0.5) {
			given = typo(given, r)
		} else {
			fam = typo(fam, r)
		}
	}
	if c.draw(kNameFormat, kindInfo[kNameFormat].rate, r) {
		given, fam = nameFormat(given, fam, r)
	}
	if c.draw(kNameSwap, kindInfo[kNameSwap].rate, r) {
		given, fam = fam, given
	}
	if pol.UpperCaseNames {
		given, fam = strings.ToUpper(given), strings.ToUpper(fam)
	}
	wr.SetString("given_name", given)
	wr.SetString("family_name", fam)

	// Date of birth.
	if dob != contract.NoDay && !c.draw(kDOBMissing, pol.DOBMissing, r) {
		y, m, d := dob.Civil()
		switch {
		case c.draw(kDOBPlaceholder, kindInfo[kDOBPlaceholder].rate, r):
			dob = contract.MakeDay(y, 1, 1)
		case d <= 12 && d != m && c.draw(kDOBSwap, kindInfo[kDOBSwap].rate, r):
			dob = contract.MakeDay(y, d, m)
		case c.draw(kDOBTypo, kindInfo[kDOBTypo].rate, r):
			dob = dobTypo(dob, r)
		}
		wr.SetDate("date_of_birth", dob)
	}
	// Sex.
	if s := rw.sex[i]; s != 0 && !c.draw(kSexMissing, kindInfo[kSexMissing].rate, r) {
		wr.SetCode("sex", string(s))
	}

	// Address: the home on the record's first row, or its last.
	u0, u1 := rw.uprnAt(i, created), rw.uprnAt(i, last)
	if u0 == 0 {
		u0 = rec.firstU
	}
	if u1 == 0 {
		u1 = rec.lastU
	}
	u := u0
	if u0 != u1 {
		if c.draw(kAddressUpdated, pol.AddressUpdated, r) {
			u = u1
		}
	}
	if p, ok := rw.props[u]; ok && u != 0 {
		wr.SetString("address", rw.address(p.address, r, c))
		if !c.draw(kPostcodeMissing, pol.PostcodeMissing, r) {
			pc := p.postcode
			switch {
			case strings.Contains(pc, " ") && c.draw(kPostcodeFormat, kindInfo[kPostcodeFormat].rate, r):
				if r.bern(0.5) {
					pc = strings.ReplaceAll(pc, " ", "")
				} else {
					pc = strings.ToLower(pc)
				}
			case c.draw(kPostcodeTypo, kindInfo[kPostcodeTypo].rate, r):
				pc = postcodeTypo(pc, r)
			}
			wr.SetString("postcode", pc)
		}
		if pol.UPRN > 0 && c.draw(kUPRNHeld, pol.UPRN, r) {
			wr.SetInt("uprn", u)
		}
	}

	// NI number.
	if pol.NINumber > 0 && (rw.dob[i] == contract.NoDay || ageAt(rw.dob[i], last) >= 16) && c.draw(kNIHeld, pol.NINumber, r) {
		ni := rw.niNumber(i)
		if c.draw(kNITypo, kindInfo[kNITypo].rate, r) {
			ni = niTypo(ni, r)
		}
		wr.SetString("ni_number", ni)
	}
	// Ethnicity and disability.
	if pol.Ethnicity {
		if e := rw.eth[i]; e != "" && !c.draw(kEthMissing, kindInfo[kEthMissing].rate, r) {
			wr.SetCode("ethnic_group", e)
		}
		if d := rw.disab[i]; d != "" && !c.draw(kDisabMissing, kindInfo[kDisabMissing].rate, r) {
			wr.SetCode("disability", d)
		}
	}
	// Death.
	if pol.Death && rw.death[i] != contract.NoDay && c.draw(kDeathHeld, kindInfo[kDeathHeld].rate, r) {
		wr.SetDate("date_of_death", rw.death[i])
		base := rw.deathRec[i]
		if base == contract.NoDay {
			base = rw.death[i]
		}
		rec := base + contract.Day(r.IntN(22))
		if rw.histEnd != contract.NoDay && base <= rw.histEnd {
			rec = min(rec, rw.histEnd)
		}
		wr.SetDate("death_recorded_date", rec)
	}
}

// uprnAt returns the UPRN of resident i's home on day t: the stay covering
// t, else the last one begun before t, else the first; 0 with no stays.
func (rw *rawWorld) uprnAt(i int, t contract.Day) int64 {
	st := rw.stays[rw.stayOff[i]:rw.stayOff[i+1]]
	if len(st) == 0 {
		return 0
	}
	best := -1
	for k, s := range st {
		if s.start > t {
			break
		}
		if s.end == contract.NoDay || t <= s.end {
			return s.uprn
		}
		best = k
	}
	if best < 0 {
		return st[0].uprn
	}
	return st[best].uprn
}

// otherFamily returns resident i's other family name (as before a
// marriage): the same in every source.
func (rw *rawWorld) otherFamily(i int) string {
	r := rawRNG(rw.cfg.Seed, i, 63, 0)
	for {
		f := family[r.IntN(len(family))]
		if f != rw.family[i] {
			return f
		}
	}
}

// niNumber returns resident i's synthetic NI number.
func (rw *rawWorld) niNumber(i int) string {
	v := (uint64(i)%niSpace*rw.niMul + rw.niAdd) % niSpace
	d := strconv.FormatUint(v/4, 10)
	return "QQ" + strings.Repeat("0", 6-len(d)) + d + string(rune('A'+v%4))
}

// typo makes one edit in s: substitution, deletion, insertion or adjacent
// transposition of letters, keeping the case of the position.
func typo(s string, r rng) string {
	rs := []rune(s)
	if len(rs) < 2 {
		return s
	}
	letter := func(like rune) rune {
		x := rune('a' + r.IntN(26))
		if unicode.IsUpper(like) {
			x = unicode.ToUpper(x)
		}
		return x
	}
	k := 1 + r.IntN(len(rs)-1) // keep the first letter more often than not
	if r.bern(0.1) {
		k = 0
	}
	substitute := func() {
		x := letter(rs[k])
		for unicode.ToLower(x) == unicode.ToLower(rs[k]) {
			x = letter(rs[k])
		}
		rs[k] = x
	}
	switch r.IntN(4) {
	case 0:
		substitute()
	case 1:
		if len(rs) > 2 {
			rs = append(rs[:k], rs[k+1:]...)
		} else {
			substitute()
		}
	case 2:
		rs = append(rs[:k], append([]rune{letter(rs[max(k-1, 0)] | 0x20)}, rs[k:]...)...)
	default:
		if k == len(rs)-1 {
			k--
		}
		if unicode.ToLower(rs[k]) == unicode.ToLower(rs[k+1]) {
			rs = append(rs[:k], rs[k+1:]...) // a doubled letter written once
		} else {
			a, b := rs[k], rs[k+1]
			if unicode.IsUpper(a) {
				a, b = unicode.ToLower(a), unicode.ToUpper(b)
			}
			rs[k], rs[k+1] = b, a
		}
	}
	return string(rs)
}

// nameFormat returns a case, punctuation or whitespace variant of a name.
func nameFormat(given, fam string, r rng) (string, string) {
	switch r.IntN(4) {
	case 0:
		return strings.ToUpper(given), strings.ToUpper(fam)
	case 1:
		return strings.ToLower(given), strings.ToLower(fam)
	case 2:
		if strings.ContainsAny(fam, "'-") {
			if r.bern(0.5) {
				return given, strings.NewReplacer("'", "", "-", "").Replace(fam)
			}
			return given, strings.NewReplacer("'", " ", "-", " ").Replace(fam)
		}
		return strings.ToUpper(given), strings.ToUpper(fam)
	default:
		if r.bern(0.5) {
			return given + " ", fam
		}
		return given, " " + fam
	}
}

// address returns a source's spelling of an address.
func (rw *rawWorld) address(a string, r rng, c *rawCounts) string {
	flat := strings.HasPrefix(a, "Flat ")
	if flat {
		switch {
		case c.draw(kAddrFlatMissing, kindInfo[kAddrFlatMissing].rate, r):
			if k := strings.Index(a, ", "); k > 0 {
				a = a[k+2:]
			}
		case c.draw(kAddrFlatFormat, kindInfo[kAddrFlatFormat].rate, r):
			a = flatFormat(a, r)
		}
	}
	abbrev := false
	for _, ab := range addressAbbrev {
		if strings.Contains(a, " "+ab[0]) {
			abbrev = true
			break
		}
	}
	if abbrev && c.draw(kAddrAbbrev, kindInfo[kAddrAbbrev].rate, r) {
		for _, ab := range addressAbbrev {
			a = replaceWord(a, ab[0], ab[1])
		}
	}
	if strings.HasSuffix(a, ", London") && c.draw(kAddrTown, kindInfo[kAddrTown].rate, r) {
		a = strings.TrimSuffix(a, ", London")
	}
	if c.draw(kAddrCase, kindInfo[kAddrCase].rate, r) {
		a = strings.ToUpper(a)
	}
	return a
}

// replaceWord replaces whole words w by x in s.
func replaceWord(s, w, x string) string {
	var b strings.Builder
	for {
		k := strings.Index(s, w)
		if k < 0 {
			b.WriteString(s)
			return b.String()
		}
		before := k == 0 || s[k-1] == ' '
		after := k+len(w) == len(s) || s[k+len(w)] == ',' || s[k+len(w)] == ' '
		b.WriteString(s[:k])
		if before && after {
			b.WriteString(x)
		} else {
			b.WriteString(w)
		}
		s = s[k+len(w):]
	}
}

// flatFormat rewrites "Flat F, rest": "F/rest", "Flat F rest" or, for a
// lettered flat in a numbered building, "12F Street".
func flatFormat(a string, r rng) string {
	k := strings.Index(a, ", ")
	if k < 0 {
		return a
	}
	flatNo, rest := a[len("Flat "):k], a[k+2:]
	switch r.IntN(3) {
	case 0:
		return flatNo + "/" + rest
	case 1:
		return "Flat " + flatNo + " " + rest
	default:
		sp := strings.IndexByte(rest, ' ')
		if len(flatNo) == 1 && flatNo[0] >= 'A' && flatNo[0] <= 'Z' && sp > 0 {
			if _, err := strconv.Atoi(rest[:sp]); err == nil {
				return rest[:sp] + flatNo + rest[sp:]
			}
		}
		return flatNo + " " + rest
	}
}

// postcodeTypo changes one letter or digit of a postcode to another of the
// same class.
func postcodeTypo(pc string, r rng) string {
	b := []byte(pc)
	for try := 0; try < 8; try++ {
		k := r.IntN(len(b))
		switch c := b[k]; {
		case c >= '0' && c <= '9':
			b[k] = byte('0' + (int(c-'0')+1+r.IntN(9))%10)
			return string(b)
		case c >= 'A' && c <= 'Z':
			b[k] = byte('A' + (int(c-'A')+1+r.IntN(25))%26)
			return string(b)
		}
	}
	return pc
}

// dobTypo changes one digit of the day, month or year's last two digits,
// keeping a valid date different from d.
func dobTypo(d contract.Day, r rng) contract.Day {
	y, m, dd := d.Civil()
	for try := 0; try < 20; try++ {
		ny, nm, nd := y, m, dd
		digit := func(v, pos int) int { // replace the digit at pos (0 units, 1 tens)
			p := 1
			if pos == 1 {
				p = 10
			}
			old := v / p % 10
			nv := old
			for nv == old {
				nv = r.IntN(10)
			}
			return v + (nv-old)*p
		}
		switch r.IntN(3) {
		case 0:
			nd = digit(dd, r.IntN(2))
		case 1:
			nm = digit(m, r.IntN(2))
		default:
			ny = digit(y, r.IntN(2))
		}
		if nm < 1 || nm > 12 || nd < 1 || nd > 31 {
			continue
		}
		nd2 := contract.MakeDay(ny, nm, nd)
		if yy, mm, dd2 := nd2.Civil(); yy == ny && mm == nm && dd2 == nd && nd2 != d {
			return nd2
		}
	}
	return d
}

// niTypo changes one digit of an NI number.
func niTypo(ni string, r rng) string {
	b := []byte(ni)
	k := 2 + r.IntN(6)
	b[k] = byte('0' + (int(b[k]-'0')+1+r.IntN(9))%10)
	return string(b)
}
