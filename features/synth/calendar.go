package synth

import (
	"fmt"
	"time"
)

// day is a calendar date as days since 1970-01-01, the count the contract
// writer formats.
type day = int32

// civil converts a day to its year, month and day of month.
func civil(d day) (y, m, dd int) {
	z := int64(d) + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	yy := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	dd = int(doy - (153*mp+2)/5 + 1)
	if mp < 10 {
		m = int(mp + 3)
	} else {
		m = int(mp - 9)
	}
	if m <= 2 {
		yy++
	}
	return int(yy), m, dd
}

// fromCivil converts a year, month and day of month to a day. Day-of-month
// overflow rolls into the next month, as time.Date does.
func fromCivil(y, m, dd int) day {
	yy := int64(y)
	if m <= 2 {
		yy--
	}
	era := yy / 400
	if yy < 0 && yy%400 != 0 {
		era--
	}
	yoe := yy - era*400
	mm := int64(m)
	var mp int64
	if mm > 2 {
		mp = mm - 3
	} else {
		mp = mm + 9
	}
	doy := (153*mp+2)/5 + int64(dd) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return day(era*146097 + doe - 719468)
}

// addMonths adds n calendar months to d, clamping the day of month to the
// target month's length (2024-01-31 + 1 month = 2024-02-29).
func addMonths(d day, n int) day {
	y, m, dd := civil(d)
	total := y*12 + (m - 1) + n
	ty, tm := total/12, total%12+1
	if total < 0 && total%12 != 0 {
		ty, tm = (total-11)/12, ((total%12)+12)%12+1
	}
	last := int(fromCivil(ty, tm+1, 1) - fromCivil(ty, tm, 1))
	if dd > last {
		dd = last
	}
	return fromCivil(ty, tm, dd)
}

// parseDate parses an ISO 8601 date (YYYY-MM-DD).
func parseDate(s string) (day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD: %w", s, err)
	}
	return day(t.Unix() / 86400), nil
}

// formatDate formats a day as YYYY-MM-DD.
func formatDate(d day) string {
	y, m, dd := civil(d)
	return fmt.Sprintf("%04d-%02d-%02d", y, m, dd)
}

// ageAt returns the age in whole years on day d of a person born on birth.
func ageAt(birth, d day) int {
	by, bm, bd := civil(birth)
	y, m, dd := civil(d)
	a := y - by
	if m < bm || (m == bm && dd < bd) {
		a--
	}
	return a
}
