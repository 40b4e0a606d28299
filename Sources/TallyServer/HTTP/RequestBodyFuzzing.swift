import Tally

/// The request-body decoding of the HTTP API, callable without a server by the fuzz targets
/// (`Sources/TallyFuzz`). Not API: the `Fuzzing` SPI may change with any release.
@_spi(Fuzzing) public enum RequestBodyFuzzing {
    /// Decodes `bytes` as each request body the API reads: the JSON parser at the default
    /// depth limit, the `POST /v1/events` and `POST /v1/transfers` decoders, every command
    /// route's body decoder (accounts, pending commits, reversals, deployments, services, health
    /// checks; ``TallyAPI`` in `Routes/CommandBodies.swift`), and every typed
    /// field accessor on every key of the top-level object. Returns the problem codes of the
    /// refusals (a refusal is the expected outcome for most inputs; only a crash is a bug).
    ///
    /// An event payload the decoder accepts must itself parse as JSON: it is stored as sent.
    public static func decode(_ bytes: [UInt8]) -> [String] {
        var codes: [String] = []
        let value: JSONValue
        do { value = try JSONValue.parse(bytes, depthMax: ServerConfiguration().jsonDepthMax) } catch {
            return [error.code]
        }
        let body: JSONObject
        do { body = try JSONObject(value) } catch { return [error.code] }
        func attempt(_ work: () throws -> Void) {
            do { try work() } catch let problem as APIProblem { codes.append(problem.code) } catch { codes.append("\(error)") }
        }
        attempt {
            let appends = try TallyAPI.appends(body, source: bytes, base: EventMetadata(actor: "fuzz"))
            for append in appends {
                for event in append.events where (try? JSONValue.parse(event.payload, depthMax: 512)) == nil {
                    preconditionFailure("an accepted payload does not parse: \(event.payload)")
                }
            }
        }
        attempt { _ = try TallyAPI.transferBatch(body) }
        // Every command route's body decoder, with fixed path parameters.
        let id: DomainID = "fuzz-1"
        attempt { _ = try TallyAPI.accountOpening(body) }
        attempt { _ = try TallyAPI.pendingCommit(body, transfer: id) }
        attempt { _ = try TallyAPI.reversal(body, of: id) }
        attempt { _ = try TallyAPI.deploymentStart(body, actor: id) }
        attempt { _ = try TallyAPI.deploymentSuccess(body, deployment: id) }
        attempt { _ = try TallyAPI.deploymentFailure(body, deployment: id) }
        attempt { _ = try TallyAPI.deploymentRollback(body, deployment: id) }
        attempt { _ = try TallyAPI.serviceScaling(body, service: id) }
        attempt { _ = try TallyAPI.configChange(body, service: id) }
        attempt { _ = try TallyAPI.migration(body, service: id) }
        attempt { _ = try TallyAPI.healthCheck(body) }
        for key in body.fields.keys {
            attempt { _ = try body.string(key) }
            attempt { _ = try body.bool(key) }
            attempt { _ = try body.uint64(key) }
            attempt { _ = try body.object(key) }
            attempt { _ = try body.array(key) }
            attempt { _ = try body.id(key) }
            attempt { _ = try body.currency(key) }
        }
        return codes
    }
}
