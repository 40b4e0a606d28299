import Foundation
import NIOConcurrencyHelpers

/// The rows `tally bench` measured: printed as they come (text or JSON lines) and, with
/// `--report`, written at the end as a Markdown report: the machine, one table row per
/// measurement with its headline rate and latencies, and text bar charts.
final class BenchReport: Sendable {
    let json: Bool
    private let rows = NIOLockedValueBox<[String]>([])

    init(json: Bool) {
        self.json = json
    }

    /// Records and prints one measurement (`workload` names it).
    func add(_ row: [String: Any]) {
        let line = Output.json(row)
        self.rows.withLockedValue { $0.append(line) }
        if self.json {
            print(line)
        } else {
            print(row.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.format($0.value))" }.joined(separator: "  "))
        }
    }

    /// Writes the Markdown report to `path`.
    func write(markdown path: String, command: String) throws {
        let rows = self.rows.withLockedValue { $0 }.compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
        var out = "# tally bench report\n\n"
        out += "`\(command)`, \(ISO8601DateFormatter().string(from: Date())). Every append durable (fsync per commit).\n\n"
        if let machine = rows.first(where: { $0["workload"] as? String == "machine" }) {
            out += "Machine: \(machine["cpu"] ?? "?"), \(machine["cores"] ?? "?") cores, "
            out += String(format: "%.1f GiB", machine["memory_gib"] as? Double ?? 0)
            out += ", kernel \(machine["kernel"] ?? "?"), \(machine["filesystem"] ?? "?"), fsync p50 "
            out += String(format: "%.3f ms, p99 %.3f ms.\n\n", machine["fsync_p50_ms"] as? Double ?? 0, machine["fsync_p99_ms"] as? Double ?? 0)
        }
        out += "| workload | what | rate | p50 ms | p99 ms | p99.9 ms | details |\n|---|---|---|---|---|---|---|\n"
        var chart: [(String, Double, String)] = []
        for row in rows where row["workload"] as? String != "machine" {
            let workload = row["workload"] as? String ?? "?"
            let (label, rate, unit) = Self.headline(row)
            let what = Self.describe(row)
            let details = row.keys.sorted().filter { !Self.shown.contains($0) }.map { "\($0)=\(Self.format(row[$0] ?? ""))" }.joined(separator: ", ")
            let latency = { (key: String) in (row[key] as? Double).map { String(format: "%.3f", $0) } ?? "" }
            out += "| \(Self.code[workload] ?? "") \(workload) | \(what) | \(rate.map { Self.format($0) + " " + unit } ?? label) | "
            out += "\(latency("p50_ms")) | \(latency("p99_ms")) | \(latency("p999_ms")) | \(details) |\n"
            if let rate { chart.append(("\(workload) \(what)", rate, unit)) }
        }
        out += "\n## Rates (log scale)\n\n```\n"
        let top = chart.map(\.1).max() ?? 1
        let width = chart.map(\.0.count).max() ?? 10
        for (name, rate, unit) in chart {
            let bars = rate <= 1 ? 1 : max(1, Int(40 * log10(rate) / max(1, log10(top))))
            out += name.padding(toLength: width, withPad: " ", startingAt: 0) + " " + String(repeating: "█", count: bars) + " " + Self.format(rate) + " " + unit + "\n"
        }
        out += "```\n"
        try out.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// The issue's workload names.
    static let code = [
        "batch": "W1", "single": "W2", "replay": "W3", "read": "W4", "payroll": "W5", "hot": "W5", "mixed": "W6", "http": "W7", "backup": "W8",
    ]

    private static let shown: Set<String> = ["workload", "p50_ms", "p99_ms", "p999_ms", "clients", "mode", "phase", "projection", "step", "format", "views_from"]

    private static func describe(_ row: [String: Any]) -> String {
        var parts: [String] = []
        for key in ["mode", "phase", "projection", "step", "format", "views_from"] { if let value = row[key] { parts.append("\(value)") } }
        if let clients = row["clients"] { parts.append("\(clients) clients") }
        return parts.joined(separator: " ")
    }

    private static func headline(_ row: [String: Any]) -> (String, Double?, String) {
        for (key, unit) in [
            ("events_per_second", "events/s"), ("transfers_per_second", "transfers/s"), ("records_per_second", "records/s"),
            ("commands_per_second", "commands/s"), ("requests_per_second", "requests/s"),
        ] {
            if let value = row[key] as? Double, value > 0 { return (key, value, unit) }
        }
        if let seconds = row["seconds"] as? Double { return (String(format: "%.2f s", seconds), nil, "") }
        return ("", nil, "")
    }

    static func format(_ value: Any) -> String {
        if let double = value as? Double {
            return String(format: double >= 100 || (double == double.rounded() && abs(double) < 1e15) ? "%.0f" : "%.3f", double)
        }
        return "\(value)"
    }
}
