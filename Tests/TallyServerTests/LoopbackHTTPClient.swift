import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 keep-alive client over one TCP socket on loopback, for the process
/// tests: each load client runs on its own thread, so the test's cooperative pool (two
/// threads on a two-core machine) is never blocked and no client library's pooling is
/// between the test and the server.
final class LoopbackHTTPClient {
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    let port: Int

    init(port: Int) { self.port = port }

    deinit { self.close() }

    /// Sends one request and reads the whole answer; `nil` when the connection failed or
    /// the server closed it (a killed server).
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String = "") -> (status: Int, body: String)? {
        if self.fd < 0, !self.connect() { return nil }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(self.port)\r\nContent-Length: \(body.utf8.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n" + body).utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(self.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return self.fail() }
            sent += n
        }
        guard let headerEnd = self.readUntilHeaderEnd() else { return self.fail() }
        let headerText = String(decoding: self.buffer[0..<headerEnd], as: UTF8.self)
        self.buffer.removeFirst(headerEnd + 4)
        let lines = headerText.components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            return self.fail()
        }
        let length = lines.dropFirst().compactMap { line -> Int? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "content-length" else { return nil }
            return Int(parts[1].trimmingCharacters(in: .whitespaces))
        }.first ?? 0
        while self.buffer.count < length {
            guard self.fill() else { return self.fail() }
        }
        let answer = String(decoding: self.buffer[0..<length], as: UTF8.self)
        self.buffer.removeFirst(length)
        if lines.contains(where: { $0.lowercased() == "connection: close" }) { self.close() }
        return (status, answer)
    }

    func close() {
        if self.fd >= 0 { Glibc.close(self.fd) }
        self.fd = -1
        self.buffer.removeAll()
    }

    private func fail() -> (status: Int, body: String)? {
        self.close()
        return nil
    }

    private func connect() -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(self.port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return false
        }
        self.fd = fd
        return true
    }

    private func readUntilHeaderEnd() -> Int? {
        let marker: [UInt8] = [13, 10, 13, 10]
        var searchFrom = 0
        while true {
            if self.buffer.count >= 4 {
                for index in searchFrom...(self.buffer.count - 4) where self.buffer[index..<(index + 4)].elementsEqual(marker) {
                    return index
                }
                searchFrom = self.buffer.count - 3
            }
            guard self.fill() else { return nil }
        }
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16_384)
        let n = chunk.withUnsafeMutableBytes { recv(self.fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        self.buffer.append(contentsOf: chunk[0..<n])
        return true
    }
}
