package synth

import "caserisk/features/contract"

// day is a calendar date, the contract's Day: days since 1970-01-01.
type day = contract.Day

// civil returns a day's year, month and day of month.
func civil(d day) (y, m, dd int) { return d.Civil() }

// fromCivil returns the day of a valid calendar date.
func fromCivil(y, m, dd int) day { return contract.MakeDay(y, m, dd) }

// addMonths adds n calendar months to d, clamping the day of month to the
// target month's length (2024-01-31 + 1 month = 2024-02-29).
func addMonths(d day, n int) day { return d.AddMonths(n) }

// ageAt returns the age in whole years on day d of a person born on birth,
// counting years of 365.25 days (exact but for a day around some
// birthdays; the generator needs it fast, not to the day).
func ageAt(birth, d day) int {
	n := int64(d) - int64(birth)
	if n < 0 {
		return -1 - int((-n-1)*4/1461)
	}
	return int(n * 4 / 1461)
}
