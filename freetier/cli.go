package freetier

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"
)

const cliUsage = `Usage: workshop freetier [flags]

Works out a month of EC2 free-tier hours and costs for one group of instances.

Examples:
  workshop freetier --instances 2 --hours 375
  workshop freetier --plan credits --type t3.micro --ipv4 --month 2027-01
  workshop freetier --created 2025-03-01 --instances 2 --month 2025-12 --json

Flags:
`

// flagNames maps field names (see FieldErrors) to the flags that set them.
var flagNames = map[string]string{
	"plan": "--plan", "created": "--created", "month": "--month", "ebs_gb": "--ebs",
	"credits_usd": "--credits", "vcpu_quota": "--vcpu-quota", "type": "--type",
	"instances": "--instances", "hours": "--hours", "hours_per_day": "--hours-per-day",
	"ipv4": "--ipv4", "groups": "--instances",
}

// RunCLI is the "workshop freetier" subcommand: it parses args (without the
// subcommand's name), prints the result as a table, or as the API's JSON
// Response with --json, and returns the exit code: 0 on success, 2 on bad
// input (with a message naming the flag and the expected form on stderr).
func RunCLI(args []string, stdout, stderr io.Writer, today time.Time) int {
	fs := flag.NewFlagSet("workshop freetier", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, cliUsage)
		fs.PrintDefaults()
	}
	// Numbers are read as text so that the messages are the page's and
	// the API's (ParseValues), not the flag package's.
	instances := fs.String("instances", "", "number of instances `N` (default 1)")
	hours := fs.String("hours", "", "hours `H` each instance runs in the month (default: all month)")
	perDay := fs.String("hours-per-day", "", "hours `H` each instance runs every day (instead of --hours)")
	typ := fs.String("type", "", "instance `type`: "+strings.Join(TypeNames(), ", ")+" (default t2.micro on legacy, t3.micro on credits)")
	plan := fs.String("plan", "", "free-tier `plan`: legacy or credits (default: from --created, else legacy)")
	created := fs.String("created", "", "account creation `date`, YYYY-MM-DD")
	month := fs.String("month", "", "calendar `month`, YYYY-MM (default: this month)")
	ipv4 := fs.Bool("ipv4", false, "each instance has a public IPv4 address")
	ebs := fs.String("ebs", "", "EBS storage in `GB`")
	credits := fs.String("credits", "", "credit balance in `USD` on the credit plan (default 100, at most 200)")
	quota := fs.String("vcpu-quota", "", "your vCPU quota `N` from Service Quotas (default 5)")
	asJSON := fs.Bool("json", false, "print JSON (the API's response) instead of a table")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "workshop freetier: unexpected argument %q; every value is given with a flag, e.g. --instances 2\n", fs.Arg(0))
		return 2
	}
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("instances", *instances)
	set("hours", *hours)
	set("hours_per_day", *perDay)
	set("type", *typ)
	set("plan", *plan)
	set("created", *created)
	set("month", *month)
	set("ebs_gb", *ebs)
	set("credits_usd", *credits)
	set("vcpu_quota", *quota)
	if *ipv4 {
		v.Set("ipv4", "yes")
	}
	_, res, errs := CalculateValues(v, today)
	if len(errs) > 0 {
		for _, line := range strings.Split(errs.Error(), "\n") {
			field, msg, _ := strings.Cut(line, ": ")
			name := flagNames[field]
			if name == "" {
				name = field
			}
			fmt.Fprintf(stderr, "workshop freetier: %s: %s\n", name, msg)
		}
		fmt.Fprintln(stderr, "Run 'workshop freetier --help' for the flags.")
		return 2
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(Response{Result: res}); err != nil {
			fmt.Fprintf(stderr, "workshop freetier: %v\n", err)
			return 1
		}
		return 0
	}
	if err := WriteText(stdout, res); err != nil {
		fmt.Fprintf(stderr, "workshop freetier: %v\n", err)
		return 1
	}
	return 0
}

// WriteText prints a result as a table followed by the explanation.
func WriteText(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "EC2 free tier, %s plan, %s (%d h)\n\n", r.Plan, r.Month, r.MonthHours)
	fmt.Fprintln(tw, "type\tinstances\thours\tfree h\tbilled h\t$/h\tcost\t")
	for _, t := range r.Types {
		n := 0
		for _, g := range r.Groups {
			if g.Type == t.Type {
				n += g.Instances
			}
		}
		price, cost := rate(t.HourlyUSD), usd(t.CostUSD)
		if !t.PriceKnown {
			price, cost = "unknown", "unknown"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", t.Type, n, num(t.Hours), num(t.FreeHours), num(t.BilledHours), price, cost)
	}
	if r.IPv4.Hours > 0 {
		fmt.Fprintf(tw, "public IPv4\t\t%s\t%s\t%s\t%s\t%s\t\n", num(r.IPv4.Hours), num(r.IPv4.FreeHours), num(r.IPv4.BilledHours), rate(r.IPv4.HourlyUSD), usd(r.IPv4.CostUSD))
	}
	if r.EBS.GB > 0 {
		fmt.Fprintf(tw, "EBS (GB)\t\t%s\t%s\t%s\t%s\t%s\t\n", num(r.EBS.GB), num(r.EBS.FreeGB), num(r.EBS.BilledGB), rate(r.EBS.GBMonthUSD)+"/mo*", usd(r.EBS.CostUSD))
	}
	total := usd(r.TotalUSD)
	if !r.CostComplete {
		total = "at least " + total
	}
	fmt.Fprintf(tw, "total\t\t\t\t\t\t%s\t\n", total)
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Sections {
		fmt.Fprintf(w, "\n%s\n", s.Title)
		for _, l := range s.Lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if len(r.Warnings) > 0 {
		fmt.Fprintln(w, "\nWarnings")
		for _, l := range r.Warnings {
			fmt.Fprintf(w, "  ! %s\n", l)
		}
	}
	if len(r.Uncertain) > 0 {
		fmt.Fprintln(w, "\nUncertain")
		for _, l := range r.Uncertain {
			fmt.Fprintf(w, "  ? %s\n", l)
		}
	}
	_, err := fmt.Fprintf(w, "\nFacts checked %s; prices on demand, us-east-1, Linux.\n", Checked)
	return err
}
