// Package explain says why a model gave a score: exact per-feature
// contributions (SHAP values) for tree ensembles and logistic models,
// plain-English reasons built from them, and global feature importance.
//
// Contributions follow XGBoost's pred_contribs layout: one value per feature
// in feature order, then the bias (the model's expected margin) last. They
// are additive in the margin (log-odds): bias + Σ contributions = margin.
//
// For tree ensembles the values are the path-dependent TreeSHAP values of
// Lundberg et al. (2018, Algorithm 2), the same quantity XGBoost computes.
// TreeSHAP computes them with a faster exact variant in the spirit of Fast
// TreeSHAP v2 (Yang 2021): once per model it tabulates the contributions of
// each leaf for every subset of the leaf's path features a row can satisfy,
// summed over the leaves of each height-2 subtree at the bottom of a tree
// (indexed by the path features above the subtree the row satisfies and its
// decisions at the subtree's three splits). Explaining a row then costs one
// pass over the splits and one table row per subtree: O(trees × leaves ×
// depth) additions at most, against Algorithm 2's O(trees × leaves ×
// depth²). TreeSHAPReference keeps a direct Algorithm 2 implementation that
// the tests check it against.
//
// Reasons are phrased from each feature's metadata as a caseworker would
// write them (Phrasing, and the template placeholders in phrase.go): dates
// counted back from the score date rather than day counts, plurals, shares
// in words, yes/no features as facts. A feature may carry the direction
// domain knowledge expects of it (Increasing, Decreasing); a reason that
// runs against it is withheld from users (WrongWay) and counted for the
// model report.
//
// Scores support a person's decision; reasons exist so that the person can
// see, and challenge, what drove a score.
package explain
