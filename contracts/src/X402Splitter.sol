// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC3009} from "@openzeppelin/contracts/interfaces/draft-IERC3009.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {LowLevelCall} from "@openzeppelin/contracts/utils/LowLevelCall.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";

/**
 * @title X402Splitter
 * @notice X402-style pay-per-view settlement for Matinee. The platform's quote signer signs an
 * EIP-712 invoice quote off-chain; the payer submits it with the payment, and the contract splits
 * the payment between the video's creator and the platform's fee recipient in the same transaction.
 *
 * EIP-712 domain: name "Matinee X402Splitter", version "1", the chain id and this contract's address.
 * Type string:
 * `Quote(bytes32 invoiceId,bytes32 videoIdHash,address payer,address token,uint256 amount,address creator,uint16 creatorShareBps,uint64 deadline)`
 *
 * Rules:
 * - Each `invoiceId` settles at most once (`usedInvoices`), whatever the chain state or token.
 * - The quote must be signed by the current `quoteSigner`, be unexpired (`block.timestamp <= deadline`),
 *   and be submitted by `payer` itself (except with an EIP-3009 authorization, which `payer` signed).
 * - `token == address(0)` means the chain's native coin. The native coin is ALWAYS accepted; the
 *   owner-managed allowlist (`allowedTokens`) only applies to ERC-20 tokens. Only plain ERC-20s
 *   belong on the allowlist: fee-on-transfer / rebasing tokens are refused at payment time
 *   (`TransferAmountMismatch`) because the contract must receive exactly `amount`.
 * - Split: `creatorAmount = amount * creatorShareBps / 10000`, rounded down;
 *   `platformAmount = amount - creatorAmount`, so the rounding remainder (< 1 base unit) goes to
 *   the platform and `creatorAmount + platformAmount == amount` always holds.
 * - If paying the creator fails (a contract that reverts on receive, a token that refuses or
 *   returns false, e.g. a blocklisted address), the sale still goes through: the creator's share is
 *   credited to `credits[creator][token]` (event `CreatorCredited`) and can be pulled later with
 *   `withdraw(token)` / `withdrawTo(token, to)`.
 * - Paying the platform's fee recipient must succeed, otherwise the whole payment reverts and the
 *   payer keeps their funds: the fee recipient is owner-controlled, so a failure there is a
 *   configuration error that must be fixed (with `setFeeRecipient`), not silently accrued.
 * - EIP-3009 settlement (x402's `exact` scheme): anyone (the server, as x402's facilitator) submits the
 *   quote with an authorization the payer signed to this contract (`to` = this contract, `value` =
 *   `q.amount`, `from` = `q.payer`); the contract pulls the tokens with it and splits them in the same
 *   transaction. `settleWithReceiveAuthorization` is preferred: a `ReceiveWithAuthorization` can only be
 *   executed by its payee (this contract), so nobody can front-run it at the token.
 *   A `TransferWithAuthorization` (what the official x402 clients sign) can be executed by anyone straight
 *   at the token: its tokens then arrive here without a settlement, and the settlement reverts
 *   (the authorization is used). Such tokens are "unallocated" (the balance above what is owed to
 *   creators as credits) and the owner returns them with `refundUnallocated`; credits are never touched.
 * - `pause()` stops new payments; withdrawals of existing credits keep working while paused, so
 *   creators' money is never frozen by a pause.
 * - The owner is given to the constructor (a wallet kept off the server, not the deployer). Ownership
 *   moves in two steps (`transferOwnership`, then `acceptOwnership` by the new owner), so a mistyped
 *   address cannot take it, and it cannot be renounced: without an owner a leaked quote signer could
 *   never be replaced nor payments paused.
 */
contract X402Splitter is EIP712, Ownable2Step, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice An invoice quote, signed off-chain by `quoteSigner` (EIP-712).
    struct Quote {
        bytes32 invoiceId;
        bytes32 videoIdHash;
        address payer;
        address token; // address(0) = native coin
        uint256 amount;
        address creator;
        uint16 creatorShareBps;
        uint64 deadline; // unix seconds, inclusive
    }

    /// @notice An EIP-3009 authorization signed by `q.payer` for `q.amount` to this contract (ECDSA v, r, s).
    struct Authorization {
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice keccak256 of the EIP-712 `Quote` type string.
    bytes32 public constant QUOTE_TYPEHASH = keccak256(
        "Quote(bytes32 invoiceId,bytes32 videoIdHash,address payer,address token,uint256 amount,address creator,uint16 creatorShareBps,uint64 deadline)"
    );

    /// @notice Basis-point denominator (100%).
    uint16 public constant BPS_DENOMINATOR = 10_000;

    /// @notice Address whose EIP-712 signature authorises quotes.
    address public quoteSigner;
    /// @notice Receives the platform's share of every payment.
    address public feeRecipient;
    /// @notice ERC-20 allowlist (the native coin, `address(0)`, is always allowed and is not stored here).
    mapping(address token => bool) public allowedTokens;
    /// @notice Settled invoices.
    mapping(bytes32 invoiceId => bool) public usedInvoices;
    /// @notice Creator shares that could not be paid out at sale time, withdrawable by the creator.
    mapping(address account => mapping(address token => uint256)) public credits;
    /// @notice The sum of `credits` per token: the part of this contract's balance that belongs to creators.
    mapping(address token => uint256) public totalCredits;

    event Paid(
        bytes32 indexed invoiceId,
        address indexed payer,
        address indexed creator,
        address token,
        uint256 amount,
        uint256 creatorAmount,
        uint256 platformAmount,
        bytes32 videoIdHash
    );
    event CreatorCredited(bytes32 indexed invoiceId, address indexed creator, address indexed token, uint256 amount);
    event Withdrawn(address indexed account, address indexed token, address indexed to, uint256 amount);
    event QuoteSignerChanged(address indexed oldSigner, address indexed newSigner);
    event FeeRecipientChanged(address indexed oldRecipient, address indexed newRecipient);
    event TokenAllowedSet(address indexed token, bool allowed);
    event UnallocatedRefunded(address indexed token, address indexed to, uint256 amount);

    error InvoiceUsed(bytes32 invoiceId);
    error QuoteExpired(uint64 deadline, uint256 nowTimestamp);
    error InvalidSignature();
    error WrongAmount(uint256 expected, uint256 actual);
    error WrongPayer(address expected, address actual);
    error WrongToken(address token);
    error TokenNotAllowed(address token);
    error BadShare(uint16 creatorShareBps);
    error ZeroCreator();
    error ZeroAmount();
    error ZeroAddress();
    error TransferAmountMismatch(uint256 expected, uint256 received);
    error NothingToWithdraw();
    error OwnershipCannotBeRenounced();
    error NotEnoughUnallocated(uint256 available, uint256 requested);

    /**
     * @param initialOwner Owner (pause, signer, fee recipient, allowlist).
     * @param initialQuoteSigner Address whose signatures authorise quotes.
     * @param initialFeeRecipient Receives the platform's share.
     * @param initialTokens ERC-20 tokens allowed from the start (address(0) is refused: native is always allowed).
     */
    constructor(
        address initialOwner,
        address initialQuoteSigner,
        address initialFeeRecipient,
        address[] memory initialTokens
    ) EIP712("Matinee X402Splitter", "1") Ownable(initialOwner) {
        _setQuoteSigner(initialQuoteSigner);
        _setFeeRecipient(initialFeeRecipient);
        for (uint256 i = 0; i < initialTokens.length; ++i) {
            _setTokenAllowed(initialTokens[i], true);
        }
    }

    // ------------------------------------------------------------------ payments

    /**
     * @notice Pay a native-coin quote (`q.token == address(0)`); `msg.value` must equal `q.amount`.
     */
    function payNative(Quote calldata q, bytes calldata signature) external payable nonReentrant whenNotPaused {
        if (q.token != address(0)) revert WrongToken(q.token);
        if (msg.value != q.amount) revert WrongAmount(q.amount, msg.value);
        if (msg.sender != q.payer) revert WrongPayer(q.payer, msg.sender);
        _checkQuote(q, signature);
        _settle(q);
    }

    /**
     * @notice Pay an ERC-20 quote: pulls `q.amount` of `q.token` from the caller (who must be `q.payer`
     * and must have approved this contract). Not payable: sending native coin along reverts.
     * Tokens that return nothing from `transfer`/`transferFrom` (USDT-style) are supported.
     */
    function payERC20(Quote calldata q, bytes calldata signature) external nonReentrant whenNotPaused {
        _payERC20(q, signature);
    }

    /**
     * @notice Same as {payERC20}, approving with an EIP-2612 permit first (`owner` = msg.sender,
     * `spender` = this contract, `value` = `q.amount`). A failing permit is ignored (it may have been
     * front-run and already used); the payment then only goes through if the allowance is there anyway.
     */
    function payERC20WithPermit(
        Quote calldata q,
        bytes calldata signature,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant whenNotPaused {
        if (q.token != address(0)) {
            try IERC20Permit(q.token).permit(msg.sender, address(this), q.amount, permitDeadline, v, r, s) {} catch {}
        }
        _payERC20(q, signature);
    }

    /**
     * @notice Settle an ERC-20 quote with the payer's EIP-3009 `ReceiveWithAuthorization` (to this
     * contract, for `q.amount`): pulls the tokens and splits them in this one transaction. Anyone may
     * submit it (the quote and the authorization fix every amount and address); only this contract can
     * execute the authorization at the token, so it cannot be front-run there.
     */
    function settleWithReceiveAuthorization(Quote calldata q, bytes calldata signature, Authorization calldata auth)
        external
        nonReentrant
        whenNotPaused
    {
        _settleWithAuthorization(q, signature, auth, true);
    }

    /**
     * @notice Same as {settleWithReceiveAuthorization} with a `TransferWithAuthorization` (x402's
     * `exact` scheme on EVM: what the official clients sign, with `to` = this contract). If someone
     * executes the authorization at the token first, this reverts and the tokens wait here as
     * unallocated funds until the owner refunds them ({refundUnallocated}).
     */
    function settleWithTransferAuthorization(Quote calldata q, bytes calldata signature, Authorization calldata auth)
        external
        nonReentrant
        whenNotPaused
    {
        _settleWithAuthorization(q, signature, auth, false);
    }

    // ------------------------------------------------------------------ credits

    /// @notice Withdraw the caller's credited balance of `token` (address(0) = native) to the caller.
    function withdraw(address token) external nonReentrant {
        _withdraw(token, msg.sender);
    }

    /// @notice Withdraw the caller's credited balance of `token` to `to` (e.g. when the caller cannot receive).
    function withdrawTo(address token, address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        _withdraw(token, to);
    }

    /**
     * @notice Return tokens (or native coin) that reached this contract without a settlement (an
     * EIP-3009 transfer executed straight at the token, a plain transfer) to `to`. Only what exceeds the
     * creators' credits can leave this way. Works while paused.
     */
    function refundUnallocated(address token, address to, uint256 amount) external onlyOwner nonReentrant {
        if (to == address(0)) revert ZeroAddress();
        if (amount == 0) revert ZeroAmount();
        uint256 available = unallocated(token);
        if (amount > available) revert NotEnoughUnallocated(available, amount);
        _pay(token, to, amount);
        emit UnallocatedRefunded(token, to, amount);
    }

    // ------------------------------------------------------------------ views

    /// @notice This contract's balance of `token` (address(0) = native) that is not owed to creators.
    function unallocated(address token) public view returns (uint256) {
        uint256 balance = token == address(0) ? address(this).balance : IERC20(token).balanceOf(address(this));
        uint256 owed = totalCredits[token];
        return balance > owed ? balance - owed : 0;
    }

    /// @notice EIP-712 struct hash of a quote (`hashStruct(Quote)`).
    function hashQuote(Quote calldata q) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                QUOTE_TYPEHASH,
                q.invoiceId,
                q.videoIdHash,
                q.payer,
                q.token,
                q.amount,
                q.creator,
                q.creatorShareBps,
                q.deadline
            )
        );
    }

    /// @notice The EIP-712 digest the quote signer signs (`keccak256("\x19\x01" ‖ domainSeparator ‖ hashQuote(q))`).
    function quoteDigest(Quote calldata q) public view returns (bytes32) {
        return _hashTypedDataV4(hashQuote(q));
    }

    /// @notice The EIP-712 domain separator of this deployment.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Whether `token` can be used to pay (the native coin always can).
    function isTokenAllowed(address token) public view returns (bool) {
        return token == address(0) || allowedTokens[token];
    }

    /// @notice The split applied to `amount`: creator gets `amount * bps / 10000` rounded down, the platform the rest.
    function splitAmount(uint256 amount, uint16 creatorShareBps)
        public
        pure
        returns (uint256 creatorAmount, uint256 platformAmount)
    {
        if (creatorShareBps > BPS_DENOMINATOR) revert BadShare(creatorShareBps);
        creatorAmount = Math.mulDiv(amount, creatorShareBps, BPS_DENOMINATOR); // floor, no overflow
        platformAmount = amount - creatorAmount;
    }

    // ------------------------------------------------------------------ owner

    function setQuoteSigner(address newSigner) external onlyOwner {
        _setQuoteSigner(newSigner);
    }

    function setFeeRecipient(address newRecipient) external onlyOwner {
        _setFeeRecipient(newRecipient);
    }

    /// @notice Allow or disallow an ERC-20 token. `address(0)` (native) cannot be configured: it is always allowed.
    function setTokenAllowed(address token, bool allowed) external onlyOwner {
        _setTokenAllowed(token, allowed);
    }

    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Always reverts: the contract keeps an owner (see the contract's rules).
    function renounceOwnership() public view override onlyOwner {
        revert OwnershipCannotBeRenounced();
    }

    function unpause() external onlyOwner {
        _unpause();
    }

    // ------------------------------------------------------------------ internals

    function _payERC20(Quote calldata q, bytes calldata signature) private {
        if (q.token == address(0)) revert WrongToken(q.token);
        if (msg.sender != q.payer) revert WrongPayer(q.payer, msg.sender);
        _checkQuote(q, signature);

        IERC20 token = IERC20(q.token);
        uint256 balanceBefore = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), q.amount);
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != q.amount) revert TransferAmountMismatch(q.amount, received);

        _settle(q);
    }

    /// @dev The payer is bound by the authorization's signature (`from` = `q.payer`), not by the sender.
    function _settleWithAuthorization(Quote calldata q, bytes calldata signature, Authorization calldata auth, bool receiveAuth)
        private
    {
        if (q.token == address(0)) revert WrongToken(q.token);
        _checkQuote(q, signature);

        IERC20 token = IERC20(q.token);
        uint256 balanceBefore = token.balanceOf(address(this));
        if (receiveAuth) {
            IERC3009(q.token).receiveWithAuthorization(
                q.payer, address(this), q.amount, auth.validAfter, auth.validBefore, auth.nonce, auth.v, auth.r, auth.s
            );
        } else {
            IERC3009(q.token).transferWithAuthorization(
                q.payer, address(this), q.amount, auth.validAfter, auth.validBefore, auth.nonce, auth.v, auth.r, auth.s
            );
        }
        uint256 received = token.balanceOf(address(this)) - balanceBefore;
        if (received != q.amount) revert TransferAmountMismatch(q.amount, received);

        _settle(q);
    }

    /// @dev All checks except the payment-path-specific ones; marks the invoice used (effects before interactions).
    function _checkQuote(Quote calldata q, bytes calldata signature) private {
        if (block.timestamp > q.deadline) revert QuoteExpired(q.deadline, block.timestamp);
        if (usedInvoices[q.invoiceId]) revert InvoiceUsed(q.invoiceId);
        if (q.amount == 0) revert ZeroAmount();
        if (q.creatorShareBps > BPS_DENOMINATOR) revert BadShare(q.creatorShareBps);
        if (q.creator == address(0)) revert ZeroCreator();
        if (!isTokenAllowed(q.token)) revert TokenNotAllowed(q.token);

        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(quoteDigest(q), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != quoteSigner) revert InvalidSignature();

        usedInvoices[q.invoiceId] = true;
    }

    /// @dev Funds (exactly `q.amount`) are held by this contract when this runs.
    function _settle(Quote calldata q) private {
        (uint256 creatorAmount, uint256 platformAmount) = splitAmount(q.amount, q.creatorShareBps);

        if (creatorAmount > 0 && !_tryPay(q.token, q.creator, creatorAmount)) {
            credits[q.creator][q.token] += creatorAmount;
            totalCredits[q.token] += creatorAmount;
            emit CreatorCredited(q.invoiceId, q.creator, q.token, creatorAmount);
        }
        if (platformAmount > 0) {
            _pay(q.token, feeRecipient, platformAmount);
        }

        emit Paid(
            q.invoiceId, q.payer, q.creator, q.token, q.amount, creatorAmount, platformAmount, q.videoIdHash
        );
    }

    /// @dev Pays without reverting; return data is never copied (no return-data bomb).
    function _tryPay(address token, address to, uint256 amount) private returns (bool) {
        if (token == address(0)) {
            return LowLevelCall.callNoReturn(to, amount, "");
        }
        return IERC20(token).trySafeTransfer(to, amount);
    }

    /// @dev Pays or reverts.
    function _pay(address token, address to, uint256 amount) private {
        if (token == address(0)) {
            Address.sendValue(payable(to), amount);
        } else {
            IERC20(token).safeTransfer(to, amount);
        }
    }

    function _withdraw(address token, address to) private {
        uint256 amount = credits[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw();
        credits[msg.sender][token] = 0;
        totalCredits[token] -= amount;
        _pay(token, to, amount);
        emit Withdrawn(msg.sender, token, to, amount);
    }

    function _setQuoteSigner(address newSigner) private {
        if (newSigner == address(0)) revert ZeroAddress();
        emit QuoteSignerChanged(quoteSigner, newSigner);
        quoteSigner = newSigner;
    }

    function _setFeeRecipient(address newRecipient) private {
        if (newRecipient == address(0)) revert ZeroAddress();
        emit FeeRecipientChanged(feeRecipient, newRecipient);
        feeRecipient = newRecipient;
    }

    function _setTokenAllowed(address token, bool allowed) private {
        if (token == address(0)) revert ZeroAddress();
        allowedTokens[token] = allowed;
        emit TokenAllowedSet(token, allowed);
    }
}
