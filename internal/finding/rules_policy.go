package finding

// Rule ids of the policy itself (internal/policy).
const (
	PolicyWaiverExpired    = "policy/waiver-expired"
	PolicyRuleNotEvaluated = "policy/rule-not-evaluated"
)

// policyRules are reported by the policy, not by a scanner.
var policyRules = []Rule{
	{
		ID:       PolicyWaiverExpired,
		Severity: Low,
		Summary:  "A waiver in the policy has passed its expiry date and no longer applies.",
		Rationale: "Waivers accept a known risk for a while, with a reason. Once the date in `expires` has passed, the " +
			"findings it covered are reported again and count towards the decision, and the waiver itself is reported " +
			"so that someone either fixes the cause or renews the waiver knowingly. The finding points at the waiver's " +
			"line in the policy file.",
		Remediation: "Fix what the waiver covered, or, if the risk is still accepted, move `expires` to a new date and " +
			"update the reason in a reviewed change to the policy.",
	},
	{
		ID:       PolicyRuleNotEvaluated,
		Severity: Info,
		Summary:  "A custom rule of the policy could not be evaluated on a package, file or finding because a fact it reads is unknown.",
		Rationale: "A fact the registries did not give is unknown, never zero, so a custom rule such as " +
			"`pkg.maintainers < 2` neither matches nor passes silently when the maintainer count is unknown: this " +
			"finding names the rule, the subject and the unknown facts.",
		Remediation: "Run with network access to the registries, or write the rule to decide on unknown facts " +
			"explicitly with `has(pkg.maintainers)`.",
	},
}
