"""Binary pattern store and the ReasoningBank (no pytest here)."""
