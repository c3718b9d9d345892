import Hummingbird
import PorteroCore

extension AdminController {
    /// POST /snapshot → `{seq}`: the daemon writes a snapshot now.
    func addSnapshotRoute(to routes: RouteCollection<AppRequestContext>) {
        routes.post("snapshot") { _, context in
            try JSONResponse.make(SnapshotResponse(seq: try await admin.snapshot(peer: try await peer(context))))
        }
    }

    struct SnapshotResponse: Encodable { let seq: UInt64 }
}
