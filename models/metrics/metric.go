package metrics

import (
	"encoding/json"
	"fmt"
	"math"
)

// Metric is a point estimate with its bootstrap 95% percentile interval.
// Undefined values (for example the interval when the bootstrap is switched
// off) are NaN in Go and null in JSON.
type Metric struct {
	Value float64 `json:"value"`
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
}

// metricJSON mirrors Metric with nullable fields.
type metricJSON struct {
	Value *float64 `json:"value"`
	Lo    *float64 `json:"lo"`
	Hi    *float64 `json:"hi"`
}

func nullable(f float64) *float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return &f
}

func fromNullable(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// MarshalJSON writes NaN and infinite fields as null.
func (m Metric) MarshalJSON() ([]byte, error) {
	return json.Marshal(metricJSON{nullable(m.Value), nullable(m.Lo), nullable(m.Hi)})
}

// UnmarshalJSON reads null fields as NaN.
func (m *Metric) UnmarshalJSON(b []byte) error {
	var j metricJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("metrics: decoding metric: %w", err)
	}
	*m = Metric{fromNullable(j.Value), fromNullable(j.Lo), fromNullable(j.Hi)}
	return nil
}

// errOneClass reports a sample on which ranking metrics are undefined.
func errOneClass(P, N float64) error {
	return fmt.Errorf("metrics: need both classes with positive weight (positive weight %v, negative weight %v)", P, N)
}
