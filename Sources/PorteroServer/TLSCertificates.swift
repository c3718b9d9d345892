import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// The TCP listener's certificate chain and private key (`tls.certificate`, `tls.key`), replaceable while serving.
///
/// Every handshake asks for the material in force at that moment (NIOSSL's `sslContextCallback`), so a `SIGHUP`
/// that re-reads the files changes the certificate for new connections without closing the listener; open
/// connections keep theirs. Only TLS 1.2 and 1.3 are offered.
final class TLSCertificates: Sendable {
    /// One certificate chain (leaf first) and the private key that belongs to its leaf.
    struct Material: Sendable {
        let chain: [NIOSSLCertificate]
        let key: NIOSSLPrivateKey
    }

    private let material: Mutex<Material>

    /// Reads both PEM files.
    ///
    /// - Throws: ``ConfigurationError`` naming the key whose file is missing, unreadable or unusable, or saying that
    ///   the key does not belong to the certificate.
    init(certificate: String, key: String) throws {
        material = Mutex(try Self.load(certificate: certificate, key: key))
    }

    /// Uses `next` (from ``load(certificate:key:)``) for the handshakes from now on.
    func replace(with next: Material) {
        material.withLock { $0 = next }
    }

    /// The leaf certificate in force, as DER (what a client sees).
    var currentLeafDER: [UInt8] {
        material.withLock { (try? $0.chain.first?.toDERBytes()) ?? [] }
    }

    /// A server configuration offering TLS 1.2+ whose certificate is looked up per handshake.
    var serverConfiguration: TLSConfiguration {
        let initial = material.withLock { $0 }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: initial.chain.map { .certificate($0) },
            privateKey: .privateKey(initial.key)
        )
        configuration.minimumTLSVersion = .tlsv12
        configuration.sslContextCallback = { [self] _, promise in
            let current = self.material.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = current.chain.map { .certificate($0) }
            override.privateKey = .privateKey(current.key)
            promise.succeed(override)
        }
        return configuration
    }

    static func load(certificate: String, key: String) throws -> Material {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(try readFile(certificate, key: "tls.certificate"))
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError("invalid value for tls.certificate: \(certificate) holds no PEM certificate")
        }
        guard !chain.isEmpty else {
            throw ConfigurationError("invalid value for tls.certificate: \(certificate) holds no PEM certificate")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(bytes: try readFile(key, key: "tls.key"), format: .pem)
        } catch let error as ConfigurationError {
            throw error
        } catch {
            // Never the file's content: it is a private key.
            throw ConfigurationError("invalid value for tls.key: \(key) holds no usable PEM private key")
        }
        // A context built from both checks that the key belongs to the leaf certificate.
        do {
            _ = try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: chain.map { .certificate($0) },
                    privateKey: .privateKey(privateKey)
                )
            )
        } catch {
            throw ConfigurationError(
                "invalid value for tls.key: \(key) does not belong to the certificate \(certificate)")
        }
        return Material(chain: chain, key: privateKey)
    }

    private static func readFile(_ path: String, key: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("invalid value for \(key): cannot read \(path)")
        }
        return Array(data)
    }
}
