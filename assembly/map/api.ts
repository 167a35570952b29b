// Exports of the MAP rule engine and provisioning (docs/abi.md §1).
