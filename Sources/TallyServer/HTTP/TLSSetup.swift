import Hummingbird
import HummingbirdCore
import HummingbirdTLS

/// The HTTPS server builder for `--tls-cert` and `--tls-key`.
enum TLSSetup {
    /// HTTP/1.1 over TLS with the PEM certificate chain and key at these paths.
    ///
    /// - Throws: ``APIProblem``-free setup errors naming the file that could not be used.
    static func server(certificate: String, key: String) throws -> HTTPServerBuilder {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do { chain = try NIOSSLCertificate.fromPEMFile(certificate) } catch {
            throw ServerConfiguration.Invalid(description: "cannot read the TLS certificate \(certificate): \(error)")
        }
        do { privateKey = try NIOSSLPrivateKey(file: key, format: .pem) } catch {
            throw ServerConfiguration.Invalid(description: "cannot read the TLS key \(key): \(error)")
        }
        let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        return try .tls(.http1(), tlsConfiguration: tls)
    }
}
