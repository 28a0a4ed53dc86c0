package contract

import (
	"fmt"
	"time"
)

// Day is a calendar date as a count of days since 1970-01-01 (UTC). It is
// the loader's representation of every Date column: small, ordered and cheap
// to compare, which is what point-in-time filtering needs.
type Day int32

// NoDay is the Day of a missing date.
const NoDay Day = -1 << 31

// DayOf returns the Day of t's calendar date in UTC.
func DayOf(t time.Time) Day {
	y, m, d := t.UTC().Date()
	return civilDay(y, int(m), d)
}

// MakeDay returns the Day of the given calendar date. The date must be valid.
func MakeDay(year, month, day int) Day { return civilDay(year, month, day) }

// Time returns the day's midnight in UTC.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats the day as YYYY-MM-DD, or "" for NoDay.
func (d Day) String() string {
	if d == NoDay {
		return ""
	}
	y, m, dd := d.Civil()
	return fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
}

// AppendFormat appends the day as YYYY-MM-DD to b (nothing for NoDay).
func (d Day) AppendFormat(b []byte) []byte {
	if d == NoDay {
		return b
	}
	y, m, dd := d.Civil()
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+dd/10), byte('0'+dd%10))
}

// AddMonths returns the same day of the month n months later, clamped to the
// month's last day (2024-01-31 + 1 month = 2024-02-29).
func (d Day) AddMonths(n int) Day {
	y, m, dd := d.Civil()
	m += n
	y += (m - 1) / 12
	m = (m-1)%12 + 1
	if m <= 0 {
		m += 12
		y--
	}
	if last := daysIn(y, m); dd > last {
		dd = last
	}
	return civilDay(y, m, dd)
}

// Civil returns the day's year, month and day of month.
func (d Day) Civil() (year, month, day int) {
	// Howard Hinnant's civil_from_days.
	z := int(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	day = doy - (153*mp+2)/5 + 1
	month = mp + 3
	if month > 12 {
		month -= 12
	}
	if month <= 2 {
		y++
	}
	return y, month, day
}

// civilDay is Howard Hinnant's days_from_civil.
func civilDay(y, m, d int) Day {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return Day(era*146097 + doe - 719468)
}

func daysIn(y, m int) int {
	switch m {
	case 4, 6, 9, 11:
		return 30
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	}
	return 31
}

// ParseDay parses an ISO 8601 calendar date, YYYY-MM-DD.
func ParseDay(s string) (Day, error) {
	d, ok := parseDayBytes(s)
	if !ok {
		return NoDay, fmt.Errorf("not a date in YYYY-MM-DD form: %q", s)
	}
	return d, nil
}

// MustParseDay is ParseDay for constants in code and tests; it panics on a bad date.
func MustParseDay(s string) Day {
	d, err := ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func parseDayBytes[S ~string | ~[]byte](s S) (Day, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return NoDay, false
	}
	n := 0
	var v [8]int
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			continue
		}
		c := s[i]
		if c < '0' || c > '9' {
			return NoDay, false
		}
		v[n] = int(c - '0')
		n++
	}
	y := v[0]*1000 + v[1]*100 + v[2]*10 + v[3]
	m := v[4]*10 + v[5]
	d := v[6]*10 + v[7]
	if y < 1800 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return NoDay, false
	}
	return civilDay(y, m, d), true
}
