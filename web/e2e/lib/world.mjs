// The residence story's world, set up through the service's API and the wallet CLI (what these
// tests do not walk through the screens): an administrator, the municipality, a utility and a
// bank as hosted issuers, a parcel carrier, and two neighbours whose own residences were
// established earlier, exactly as scripts/story sets them up.
import { Service, CliWallet } from "./service.mjs";

export const POLICY = "be.example.municipality/residence";

export function address(number) {
  return {
    street: { fr: "Rue de la Brasserie", nl: "Brouwerijstraat" },
    houseNumber: String(number),
    postalCode: "1050",
    municipality: { fr: "Ixelles", nl: "Elsene" },
    country: "BE",
  };
}

export function claims(number) {
  return { residence: { address: address(number), since: "2021-09-01" } };
}

export class World {
  /** `neighbours: false` skips establishing the neighbours' own residences (slow, not always needed). */
  static async create({ neighbours = true } = {}) {
    const world = new World();
    const service = (world.service = await Service.start());
    world.admin = CliWallet.create(service, "admin");
    service.admins = [{ name: "e2e administrator", did: world.admin.did }];
    await service.run();
    world.adminToken = world.admin.token();
    for (const name of ["clerk", "utility-desk", "bank-desk", "carrier", "neighbour-25", "neighbour-29"]) {
      world[camel(name)] = CliWallet.create(service, name);
    }
    await world.hostedIssuer("ixelles", "Municipality of Ixelles", "BE0207373429", world.clerk.did);
    await world.accredit(world.clerk.did, "government", "BE0207373429");
    world.utility = await world.hostedIssuer("sibelga", "Sibelga", "BE0222869673", world.utilityDesk.did);
    await world.accredit(world.utility, "utility", "BE0222869673");
    world.bank = await world.hostedIssuer("belfius", "Belfius", "BE0403201185", world.bankDesk.did);
    await world.accredit(world.bank, "bank", "BE0403201185");
    await world.accredit(world.carrier.did, "carrier", "BE0214596464");
    await world.person(world.neighbour25.did, "household-25");
    await world.person(world.neighbour29.did, "household-29");
    if (neighbours) for (const number of [25, 29]) await world.establishNeighbour(number);
    return world;
  }

  api(method, path, body, token = this.adminToken) {
    return this.service.api(method, path, token, body);
  }

  async accredit(did, category, controller) {
    const since = new Date(Date.now() - 30 * 24 * 3600 * 1000).toISOString().replace(/\.\d+Z$/, "Z");
    return this.api("POST", "/registry/accreditations", {
      did,
      category,
      fact_types: ["ResidenceAttestation"],
      controller,
      jurisdiction: "BE",
      valid_from: since,
    });
  }

  async hostedIssuer(id, name, entity, operator) {
    const issuer = await this.api("POST", "/issuers", { id, name, entity, operators: [operator] });
    return issuer.did;
  }

  async addOperator(issuer, did) {
    return this.api("POST", `/issuers/${issuer}/operators`, { did });
  }

  async person(did, household) {
    return this.api("POST", "/registry/persons", {
      did,
      person: `psn-${did.slice(8, 24)}`,
      household,
    });
  }

  /** An organisation's desk issues through hosted issuance; returns the signed credential. */
  async hosted(desk, issuer, subject, role, number) {
    const answer = await this.service.api("POST", "/credentials/issue", desk.token(), {
      credential: {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/corroborate/v1"],
        type: ["VerifiableCredential", "ResidenceAttestation"],
        issuer,
        credentialSubject: { id: subject, attesterRelation: { role }, ...claims(number) },
      },
    });
    return answer.verifiableCredential;
  }

  /** A presentation request of the municipality's CLI clerk; returns its challenge. */
  async challenge() {
    const request = await this.service.api("POST", "/presentation-requests", this.clerk.token(), {
      policy: POLICY,
    });
    return request.challenge;
  }

  /** Presents to `challenge` when given (a request the dashboard made), else to the CLI clerk's. */
  async establishNeighbour(number, challenge = null) {
    const { writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const wallet = this[`neighbour${number}`];
    for (const [desk, issuer, role] of [
      [this.utilityDesk, this.utility, "utility-supplier"],
      [this.bankDesk, this.bank, "bank"],
    ]) {
      const file = join(this.service.dir, `${wallet.name}-${role}.json`);
      writeFileSync(file, JSON.stringify(await this.hosted(desk, issuer, wallet.did, role, number)));
      wallet.run("credentials", "import", file);
    }
    const request = wallet.json(
      "request", "create", "--fact-type", "ResidenceAttestation",
      "--claims", JSON.stringify(claims(number)), "--to", this.carrier.did,
    );
    this.carrier.run("attest", "sign", request.id, "--role", "parcel-carrier", "--since", "2021-10-01", "--yes");
    wallet.run("request", "collect", request.id);
    // A challenge may start with "-": it goes after "--".
    const presented = JSON.parse(wallet.run("present", "send", "--yes", "--json", "--", challenge ?? (await this.challenge())));
    if (presented.decision.outcome !== "established") {
      throw new Error(`neighbour ${number}'s residence was not established: ${JSON.stringify(presented.decision)}`);
    }
    return presented.decision;
  }

  async dispose() {
    await this.service.dispose();
  }
}

function camel(name) {
  return name.replace(/-(\w)/g, (_, c) => c.toUpperCase()).replace(/-/g, "");
}
