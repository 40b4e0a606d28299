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
        // The events routes parse with payloads left unparsed: that must accept exactly what
        // the full parse accepts, with the same error.
        let depthMax = ServerConfiguration().jsonDepthMax
        let full = Result { () throws(APIProblem) -> JSONValue in try JSONValue.parse(bytes, depthMax: depthMax) }
        let quick = Result { () throws(APIProblem) -> JSONValue in try JSONValue.parse(bytes, depthMax: depthMax, unparsedKey: "payload") }
        let value: JSONValue
        switch (full, quick) {
        case (.success, .success(let parsed)): value = parsed
        case (.failure(let error), .failure(let other)):
            precondition(error.code == other.code && error.detail == other.detail, "unparsed payloads change the error: \(error.detail) / \(other.detail)")
            return [error.code]
        case (.success, .failure(let error)): preconditionFailure("unparsed payloads refuse a body the full parse accepts: \(error.detail)")
        case (.failure(let error), .success): preconditionFailure("unparsed payloads accept a body the full parse refuses: \(error.detail)")
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
