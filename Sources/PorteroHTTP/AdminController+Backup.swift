import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PorteroCore
import PorteroFormat

extension AdminController {
    /// POST /backup → a ustar archive (`application/x-tar`) of a data directory `portero serve` starts from: a
    /// snapshot written now and the key files. Only root and the daemon's own user may take it: it holds the
    /// signing keys, with which anyone could mint tokens for any user, and `admin_group` is for managing users.
    func addBackupRoute(to routes: RouteCollection<AppRequestContext>) {
        routes.post("backup") { _, context in
            let peer = try await peer(context)
            guard access.allowedUIDs.contains(peer.uid) else {
                logger.warning(
                    "backup refused to an admin_group member",
                    metadata: [
                        "event": "admin.denied", "peer_uid": .stringConvertible(peer.uid),
                        "peer_pid": .stringConvertible(peer.pid), "request_id": .string(context.requestID),
                    ])
                throw PorteroError(
                    .forbidden, "A backup holds the signing keys: only root and the daemon's user may take one.")
            }
            let backup = try await admin.backup(peer: peer)
            let archive = TarArchive.archive(
                backup.files.map { TarArchive.Entry(path: $0.path, mode: $0.mode, contents: $0.contents) },
                mtime: Int(Date().timeIntervalSince1970))
            var headers = HTTPFields()
            headers[.contentType] = "application/x-tar"
            headers[.cacheControl] = "no-store"
            headers[HTTPField.Name("X-Portero-Backup-Seq")!] = "\(backup.seq)"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: archive)))
        }
    }
}
