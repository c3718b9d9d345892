import Hummingbird
import PorteroCore

extension AdminController {
    /// POST /import `{users: [{email, password_hash?, name?, phone?, email_verified?, roles?, created_at?}, …]}` →
    /// `{imported, updated, unchanged, skipped, problems: [{index, reason}]}` (`portero import`). Items that are not
    /// valid are skipped and named by their position; the rest go in, in one transaction.
    func addImportRoute(to routes: RouteCollection<AppRequestContext>) {
        routes.post("import") { request, context in
            let body = try await JSONBody.parse(request)
            guard case .array(let items) = body.members["users"] ?? .null else {
                throw PorteroError.validation(["users": "must be an array of user objects"])
            }
            let report = try await admin.importUsers(items, peer: try await peer(context))
            return try JSONResponse.make(ImportResponse(report))
        }
    }

    struct ImportResponse: Encodable {
        struct Problem: Encodable {
            let index: Int
            let reason: String
        }

        let imported: Int
        let updated: Int
        let unchanged: Int
        let skipped: Int
        let problems: [Problem]

        init(_ report: ImportReport) {
            imported = report.imported
            updated = report.updated
            unchanged = report.unchanged
            skipped = report.skipped.count
            problems = report.skipped.map { Problem(index: $0.index, reason: $0.reason) }
        }
    }
}
